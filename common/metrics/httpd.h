/* A minimal HTTP server for GET endpoints, on libmicrohttpd with one internal thread.
 * libmicrohttpd is loaded with dlopen() on the first httpd_start(), not linked: Debian's
 * build pulls in GnuTLS, whose relocations and start-up allocations cost the daemon ~0.4 MiB
 * of anonymous memory even when no endpoint is served. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct httpd;

struct httpd_response {
        unsigned code;    /* HTTP status */
        const char *type; /* Content-Type */
        const char *body; /* static text, or malloc'd when owned */
        size_t len;
        bool owned; /* the server frees body */
};

/* Called on the server thread for each request; fills ret. method is "GET" or "HEAD" (other
 * methods are answered 405 without calling it). */
typedef void (*httpd_handler_fn)(void *userdata, const char *url, struct httpd_response *ret);

/* Serves on listen_fd (bound and listening; the server owns it from here on, also on
 * failure). -ENOENT when libmicrohttpd cannot be loaded, -EIO when it refuses to start. */
int httpd_start(int listen_fd, bool ipv6, httpd_handler_fn fn, void *userdata, struct httpd **ret);
/* Stops the thread, closes the socket, frees; accepts NULL. */
void httpd_stop(struct httpd *h);
