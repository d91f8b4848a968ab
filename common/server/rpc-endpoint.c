/* The listening endpoint: a unix socket (stale ones removed, live ones refused) or tcp. */
#include "common/server/rpc-internal.h"

#include <errno.h>
#include <grpc/grpc_security.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
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

int rpc_bind(struct rpc_server *srv)
{
        const char *ep = srv->opts.endpoint;
        char addr[256];
        if (strncmp(ep, "tcp://", 6) == 0) {
                snprintf(addr, sizeof(addr), "%s", ep + 6);
        } else {
                const char *path = strncmp(ep, "unix://", 7) == 0 ? ep + 7 : ep;
                if (strlen(path) >= sizeof(srv->socket_path))
                        return -ENAMETOOLONG;
                snprintf(srv->socket_path, sizeof(srv->socket_path), "%s", path);
                int r = rpc_prepare_socket(path);
                if (r < 0)
                        return r;
                snprintf(addr, sizeof(addr), "unix:%s", path);
        }
        grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
        mode_t old = umask(0117); /* the socket is created 0660 */
        int port = grpc_server_add_http2_port(srv->server, addr, creds);
        umask(old);
        grpc_server_credentials_release(creds);
        if (port == 0) {
                log_error("msg='cannot listen' endpoint='%s'", ep);
                return -EADDRNOTAVAIL;
        }
        if (srv->socket_path[0] && chmod(srv->socket_path, 0660) < 0)
                return neg_errno();
        return 0;
}
