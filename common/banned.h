/* Functions that invite overflows, silent truncation or hidden errors. CMake force-includes
 * this header first into every silo translation unit, so using one is a compile error
 * everywhere. Use common/str.h (str_copy, str_format), snprintf, strtok_r, strtoull. */
#pragma once

/* Declare them before poisoning: a system header that declares a poisoned name after the
 * pragma would fail, and include guards keep these from being read again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#pragma GCC poison strcpy strcat strncpy strncat stpcpy stpncpy
#pragma GCC poison sprintf vsprintf gets
#pragma GCC poison strtok atoi atol atoll
#pragma GCC poison tmpnam mktemp asctime ctime gmtime localtime
