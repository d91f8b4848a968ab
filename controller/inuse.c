/* Whether a volume's data file is attached to a loop device on this host (staged by a node
 * plugin), read from sysfs so that controller/ needs nothing from node/. */
#include "controller/controller.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/fileio.h"
#include "common/cleanup.h"

#define INUSE_SYS_BLOCK "/sys/block"

/* 1 when loop device name's backing file is path. */
static int inuse_backs(const char *name, const char *path)
{
        char sys[PATH_MAX];
        char *buf = NULL;
        size_t len = 0;
        snprintf(sys, sizeof(sys), INUSE_SYS_BLOCK "/%s/loop/backing_file", name);
        int r = fileio_read_all(sys, PATH_MAX, &buf, &len);
        if (r < 0)
                return 0; /* not attached (no backing_file) or gone meanwhile */
        while (len > 0 && buf[len - 1] == '\n')
                buf[--len] = '\0';
        r = strcmp(buf, path) == 0;
        free(buf);
        return r;
}

int inuse_loop_device(const char *path, char *ret_dev, size_t size)
{
        char real[PATH_MAX];
        if (!realpath(path, real))
                return errno == ENOENT ? 0 : neg_errno();
        /* A loop device binds its file read-write: no writer at all, no device, and no walk of
         * every loop device on the host. */
        _cleanup_close_ int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd >= 0 && fileio_has_writer(fd) == 0)
                return 0;
        DIR *d = opendir(INUSE_SYS_BLOCK);
        if (!d)
                return 0; /* no sysfs: nothing we can see */
        int found = 0;
        struct dirent *de;
        while (!found && (de = readdir(d)))
                if (strncmp(de->d_name, "loop", 4) == 0 && inuse_backs(de->d_name, real))
                        found = snprintf(ret_dev, size, "/dev/%s", de->d_name) > 0;
        closedir(d);
        return found;
}
