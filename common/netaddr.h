/* "host:port" listen addresses from flags. */
#pragma once

#include <sys/socket.h>

/* Parses "host:port", "[v6]:port" or ":port" (numeric hosts and localhost only: no name
 * lookups at start-up). -EINVAL, logged as "invalid <what>" with the reason, when malformed. */
int netaddr_parse(const char *what, const char *address, struct sockaddr_storage *ret,
                  socklen_t *ret_len);
