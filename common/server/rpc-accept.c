/* Accepting connections ourselves instead of letting gRPC listen: gRPC 1.51's listener stops
 * for good after one accept fails with EMFILE, which left the socket deaf. Here a bound on
 * open connections (--max-connections, and at most half the open-file limit) refuses the
 * excess by accepting and closing, and a reserve fd makes that possible even when every fd is
 * in use. Each accepted socket is handed to gRPC as a channel of the server. */
#include "common/server/rpc-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/cleanup.h"

#define RPC_ACCEPT_WARN_MS  10000 /* at most one warning per kind this often */
#define RPC_ACCEPT_RETRY_MS 100   /* back-off after an accept error that would repeat */

static void rpc_accept_pause(void)
{
        struct timespec ts = {0, RPC_ACCEPT_RETRY_MS * 1000000L};
        nanosleep(&ts, NULL);
}

static bool rpc_accept_may_warn(uint64_t *last_ms)
{
        uint64_t now = workq_now_ms();
        if (*last_ms && now - *last_ms < RPC_ACCEPT_WARN_MS)
                return false;
        *last_ms = now;
        return true;
}

static unsigned long long rpc_accept_fd_limit(void)
{
        struct rlimit rl;
        return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (unsigned long long)rl.rlim_cur : 1024;
}

/* --max-connections, but never more than half the fds: workers need theirs. */
static unsigned rpc_accept_limit(const struct rpc_server *srv)
{
        unsigned long long half = rpc_accept_fd_limit() / 2;
        unsigned limit = srv->opts.max_connections;
        if (half < limit)
                limit = (unsigned)half;
        return limit ? limit : 1;
}

/* Forgets the connections gRPC has closed: their fd is gone or now names another file
 * (socket inode numbers are not reused while the socket lives). */
static void rpc_accept_prune(struct rpc_accept *a)
{
        unsigned n = 0;
        for (unsigned i = 0; i < a->n_conns; i++) {
                struct stat st;
                if (fstat(a->conns[i].fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
                    st.st_ino == a->conns[i].ino)
                        a->conns[n++] = a->conns[i];
        }
        a->n_conns = n;
}

/* Out of fds: the reserve makes room to accept the connection and close it at once, so the
 * client fails fast instead of waiting in the backlog of a listener that cannot take it. */
static void rpc_accept_emfile(struct rpc_server *srv, int err)
{
        struct rpc_accept *a = &srv->accept;
        if (a->reserve_fd >= 0) {
                close(a->reserve_fd);
                int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd >= 0)
                        close(fd);
                a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        if (rpc_accept_may_warn(&a->last_emfile_warn_ms))
                log_warn("msg='refusing connections: %s (open-file limit %llu); connections are "
                         "closed at once until fds are free again'",
                         strerror(err), rpc_accept_fd_limit());
        if (a->reserve_fd < 0)
                rpc_accept_pause();
}

static void rpc_accept_failed(struct rpc_server *srv, int err)
{
        struct rpc_accept *a = &srv->accept;
        switch (err) {
        case EAGAIN:
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
                return;
        case EMFILE:
        case ENFILE:
                rpc_accept_emfile(srv, err);
                return;
        default:
                if (rpc_accept_may_warn(&a->last_error_warn_ms))
                        log_warn("msg='cannot accept a connection: %s'", strerror(err));
                rpc_accept_pause();
        }
}

static void rpc_accept_take(struct rpc_server *srv, int fd, grpc_server_credentials *creds)
{
        struct rpc_accept *a = &srv->accept;
        unsigned limit = rpc_accept_limit(srv);
        if (a->n_conns >= limit)
                rpc_accept_prune(a);
        struct stat st;
        if (a->n_conns >= limit || a->n_conns >= a->cap || fstat(fd, &st) < 0) {
                close(fd);
                if (rpc_accept_may_warn(&a->last_limit_warn_ms))
                        log_warn("msg='refusing connections: %u are open, the limit is %u "
                                 "(--max-connections %u, at most half the open-file limit %llu)'",
                                 a->n_conns, limit, srv->opts.max_connections,
                                 rpc_accept_fd_limit());
                return;
        }
        if (srv->listen_tcp) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        /* Recorded before gRPC owns the fd and may close it. */
        a->conns[a->n_conns++] = (struct rpc_conn){fd, st.st_ino};
        grpc_server_add_channel_from_fd(srv->server, fd, creds);
}

static void *rpc_accept_loop(void *arg)
{
        struct rpc_server *srv = arg;
        struct rpc_accept *a = &srv->accept;
        grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
        struct pollfd p[2] = {{.fd = srv->listen_fd, .events = POLLIN},
                              {.fd = a->wake_fd, .events = POLLIN}};
        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno != EINTR)
                                rpc_accept_pause();
                        continue;
                }
                if (p[1].revents)
                        break;
                if (!p[0].revents)
                        continue;
                int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                        rpc_accept_failed(srv, errno);
                else
                        rpc_accept_take(srv, fd, creds);
        }
        grpc_server_credentials_release(creds);
        return NULL;
}

int rpc_accept_start(struct rpc_server *srv)
{
        struct rpc_accept *a = &srv->accept;
        a->cap = srv->opts.max_connections ? srv->opts.max_connections : 1;
        a->conns = calloc(a->cap, sizeof(*a->conns));
        if (!a->conns)
                return -ENOMEM;
        a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        a->wake_fd = eventfd(0, EFD_CLOEXEC);
        if (a->reserve_fd < 0 || a->wake_fd < 0)
                return neg_errno();
        int r = -pthread_create(&a->thread, NULL, rpc_accept_loop, srv);
        if (r < 0)
                return r;
        a->running = true;
        return 0;
}

void rpc_accept_stop(struct rpc_server *srv)
{
        struct rpc_accept *a = &srv->accept;
        if (a->running) {
                uint64_t one = 1;
                if (write(a->wake_fd, &one, sizeof(one)) == sizeof(one))
                        pthread_join(a->thread, NULL);
                a->running = false;
        }
        if (srv->listen_fd >= 0)
                close(srv->listen_fd);
        srv->listen_fd = -1;
        if (a->wake_fd >= 0)
                close(a->wake_fd);
        if (a->reserve_fd >= 0)
                close(a->reserve_fd);
        a->wake_fd = a->reserve_fd = -1;
        free(a->conns);
        a->conns = NULL;
        a->n_conns = 0;
}
