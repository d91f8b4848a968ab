/* The listening endpoint: a unix socket (stale ones removed, live ones refused) or tcp. */
#include "common/server/rpc-internal.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/str.h"
#include "common/cleanup.h"

/* A socket left by a crashed instance is removed; one a live server answers on is not. */
static int rpc_prepare_socket(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : neg_errno();
        if (!S_ISSOCK(st.st_mode)) {
                log_error("msg='endpoint path exists and is not a socket' path='%s'", path);
                return -EEXIST;
        }
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return neg_errno();
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                log_error("msg='another instance is serving on the endpoint' path='%s'", path);
                return -EADDRINUSE;
        }
        log_info("msg='removing stale socket' path='%s'", path);
        if (unlink(path) < 0 && errno != ENOENT)
                return neg_errno();
        return 0;
}

/* Binds and listens on path; the socket file is created 0660. */
static int rpc_listen_unix(struct rpc_server *srv, const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int r = STR_COPY(sa.sun_path, path); /* socket_path has the same size */
        if (r < 0)
                return r;
        r = rpc_prepare_socket(path);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return neg_errno();
        mode_t old = umask(0117);
        r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? neg_errno() : 0;
        umask(old);
        if (r < 0) {
                log_error("msg='cannot create the socket: %s: check that its directory exists "
                          "and is writable' path='%s'",
                          strerror(-r), path);
                return r;
        }
        if (listen(fd, RPC_LISTEN_BACKLOG) < 0 || chmod(path, 0660) < 0) {
                r = neg_errno();
                unlink(path);
                log_error("msg='cannot listen on the socket: %s' path='%s'", strerror(-r), path);
                return r;
        }
        snprintf(srv->socket_path, sizeof(srv->socket_path), "%s", path);
        srv->listen_fd = TAKE_FD(fd);
        return 0;
}

/* "host:port" or "[v6]:port" (remote testing only). */
static int rpc_listen_tcp(struct rpc_server *srv, const char *hostport)
{
        char host[256];
        const char *colon = strrchr(hostport, ':');
        if (!colon || (size_t)(colon - hostport) >= sizeof(host))
                return -EINVAL;
        snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
        size_t hl = strlen(host);
        if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
                memmove(host, host + 1, hl - 2);
                host[hl - 2] = '\0';
        }
        struct addrinfo hints = {
            .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
        struct addrinfo *res = NULL;
        int e = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
        if (e != 0) {
                log_error("msg='cannot resolve the endpoint: %s' endpoint='tcp://%s'",
                          gai_strerror(e), hostport);
                return -EADDRNOTAVAIL;
        }
        int r = -EADDRNOTAVAIL;
        for (struct addrinfo *ai = res; ai && r < 0; ai = ai->ai_next) {
                _cleanup_close_ int fd =
                    socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                int one = 1;
                if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
                    listen(fd, RPC_LISTEN_BACKLOG) < 0) {
                        r = neg_errno();
                        continue;
                }
                srv->listen_fd = TAKE_FD(fd);
                srv->listen_tcp = true;
                r = 0;
        }
        freeaddrinfo(res);
        if (r < 0)
                log_error("msg='cannot listen on the endpoint: %s' endpoint='tcp://%s'",
                          strerror(-r), hostport);
        return r;
}

int rpc_bind(struct rpc_server *srv)
{
        const char *ep = srv->opts.endpoint;
        if (strncmp(ep, "tcp://", 6) == 0)
                return rpc_listen_tcp(srv, ep + 6);
        return rpc_listen_unix(srv, strncmp(ep, "unix://", 7) == 0 ? ep + 7 : ep);
}
