/* "host:port" listen addresses from flags. */
#include "common/netaddr.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include "common/log.h"
#include "common/units.h"

static int netaddr_bad(const char *what, const char *address, const char *why)
{
        log_error("msg='invalid %s' address='%s' reason='%s'", what, address, why);
        return -EINVAL;
}

/* Splits "host:port" / "[v6]:port" / ":port" into host (may be "") and port. */
static int netaddr_split(const char *what, const char *address, char *host, size_t size,
                         uint64_t *ret_port)
{
        const char *colon = strrchr(address, ':');
        if (!colon)
                return netaddr_bad(what, address, "expected host:port");
        const char *h = address;
        size_t hlen = (size_t)(colon - address);
        if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
                h++;
                hlen -= 2;
        } else if (memchr(h, ':', hlen) || memchr(h, '[', hlen) || memchr(h, ']', hlen)) {
                return netaddr_bad(what, address, "IPv6 addresses go in brackets");
        }
        if (hlen >= size)
                return netaddr_bad(what, address, "host too long");
        memcpy(host, h, hlen);
        host[hlen] = '\0';
        if (units_parse_u64(colon + 1, 0, 65535, ret_port) < 0)
                return netaddr_bad(what, address, "port must be a number 0-65535");
        return 0;
}

int netaddr_parse(const char *what, const char *address, struct sockaddr_storage *ret,
                  socklen_t *ret_len)
{
        char host[256];
        uint64_t port;
        if (!address || !address[0])
                return netaddr_bad(what, "", "empty");
        int r = netaddr_split(what, address, host, sizeof(host), &port);
        if (r < 0)
                return r;

        /* Numeric hosts only (plus localhost): no name service lookups at start-up. */
        const char *node = host[0] ? host : "0.0.0.0";
        if (strcmp(node, "localhost") == 0)
                node = "127.0.0.1";
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICHOST};
        struct addrinfo *res = NULL;
        if (getaddrinfo(node, NULL, &hints, &res) != 0)
                return netaddr_bad(what, address, "host must be an IP address or localhost");
        memcpy(ret, res->ai_addr, res->ai_addrlen);
        *ret_len = res->ai_addrlen;
        freeaddrinfo(res);
        if (ret->ss_family == AF_INET6)
                ((struct sockaddr_in6 *)ret)->sin6_port = htons((uint16_t)port);
        else
                ((struct sockaddr_in *)ret)->sin_port = htons((uint16_t)port);
        return 0;
}
