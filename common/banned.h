/* Functions that invite overflows or hide errors; using one is a compile error. */
#pragma once

#define SILO_BANNED(fn) sorry_##fn##_is_banned_in_silo

#undef strcpy
#define strcpy(...) SILO_BANNED(strcpy)
#undef strcat
#define strcat(...) SILO_BANNED(strcat)
#undef sprintf
#define sprintf(...) SILO_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SILO_BANNED(vsprintf)
#undef strtok
#define strtok(...) SILO_BANNED(strtok)
#undef atoi
#define atoi(...) SILO_BANNED(atoi)
#undef atol
#define atol(...) SILO_BANNED(atol)
#undef gets
#define gets(...) SILO_BANNED(gets)
