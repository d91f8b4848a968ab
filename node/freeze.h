/* FIFREEZE/FITHAW of mounted filesystems. Internal to node/ (node.h has the service's view). */
#pragma once

/* Thaws the filesystem mounted at path. 1: it was frozen and is thawed now; 0: it was not
 * frozen; negative: error. */
int freeze_thaw_path(const char *path);
