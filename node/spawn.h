/* Runs a helper program (mkfs, resize2fs, ...) as a child process: argv is executed
 * directly (never through a shell), looked up in the system directories only, with stdin
 * from /dev/null, a fixed environment (PATH, LC_ALL=C) and stdout+stderr captured. */
#pragma once

#include <stddef.h>

/* Returns the exit status (0..255) of the program, or a negative errno when it could not be
 * run (-ENOENT: not installed) or was killed by a signal (-ECANCELED). The combined output
 * is stored in out (truncated to out_size - 1 bytes, always NUL-terminated; may be NULL). */
int spawn_run(const char *const *argv, char *out, size_t out_size);

/* Returns once no helper started before the call is still between its fork and its exec.
 * Until its exec a child holds a copy of every descriptor of this process, so that a mount
 * another call has just closed its last descriptor of stays busy. A caller that unmounts
 * calls this after closing its descriptors; the child's copies go during its exec, a moment
 * after this returns, so an EBUSY right after is still worth a short retry. Thread-safe. */
void spawn_settle(void);

/* Copies into buf the line of a tool's output that says why it failed: the first non-empty,
 * unindented line that is not a version banner ("mke2fs 1.47.0 (...)") and comes before any
 * usage text; the last non-empty line when there is none. */
void spawn_error_line(const char *out, char *buf, size_t size);
