#include "common/mntcontext.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

#define MNTCONTEXT_KEY     "context="
#define MNTCONTEXT_KEY_LEN (sizeof(MNTCONTEXT_KEY) - 1)
#define MNTCONTEXT_DIGITS  4 /* s0..s9999, c0..c9999: policies stop at c1023 */

struct mntcontext_cur {
        const char *p;
        const char *end;
};

static bool mntcontext_eat(struct mntcontext_cur *c, char ch)
{
        if (c->p == c->end || *c->p != ch)
                return false;
        c->p++;
        return true;
}

static bool mntcontext_is_digit(char ch)
{
        return ch >= '0' && ch <= '9';
}

/* [a-z0-9_]+: user, role and type. */
static bool mntcontext_ident(struct mntcontext_cur *c)
{
        const char *start = c->p;

        while (c->p < c->end &&
               ((*c->p >= 'a' && *c->p <= 'z') || mntcontext_is_digit(*c->p) || *c->p == '_'))
                c->p++;
        return c->p > start;
}

/* prefix and a number without leading zeros: s0, c1023. */
static bool mntcontext_number(struct mntcontext_cur *c, char prefix)
{
        const char *start;

        if (!mntcontext_eat(c, prefix))
                return false;
        start = c->p;
        while (c->p < c->end && mntcontext_is_digit(*c->p))
                c->p++;
        if (c->p == start || c->p - start > MNTCONTEXT_DIGITS)
                return false;
        return !(start[0] == '0' && c->p - start > 1);
}

/* s<n>[:<cat>[.<cat>][,<cat>[.<cat>]]...] */
static bool mntcontext_level(struct mntcontext_cur *c)
{
        if (!mntcontext_number(c, 's'))
                return false;
        if (!mntcontext_eat(c, ':'))
                return true;
        do {
                if (!mntcontext_number(c, 'c'))
                        return false;
                if (mntcontext_eat(c, '.') && !mntcontext_number(c, 'c'))
                        return false;
        } while (mntcontext_eat(c, ','));
        return true;
}

/* <level>[-<level>] */
static bool mntcontext_range(struct mntcontext_cur *c)
{
        if (!mntcontext_level(c))
                return false;
        return !mntcontext_eat(c, '-') || mntcontext_level(c);
}

/* "mount flag '<pre><shown><post>': <reason>", shown cut to 64 bytes. */
static int mntcontext_fail(char *why, size_t why_size, const char *pre, const char *shown,
                           size_t len, const char *post, const char *reason)
{
        if (why && why_size)
                snprintf(why, why_size, "mount flag '%s%.*s%s%s': %s", pre,
                         (int)(len < 64 ? len : 64), shown, len > 64 ? "..." : "", post, reason);
        return -SILO_EINVALID;
}

int mntcontext_check_label(const char *label, size_t len, char *why, size_t why_size)
{
        static const char *const reason[] = {
            "the SELinux user is not [a-z0-9_]+ followed by ':' (want user:role:type:level, as "
            "in system_u:object_r:container_file_t:s0:c1,c2)",
            "the SELinux role is not [a-z0-9_]+ followed by ':' (want user:role:type:level)",
            "the SELinux type is not [a-z0-9_]+ followed by ':' (want user:role:type:level)",
        };
        struct mntcontext_cur c = {label, label + len};

        if (len > MNTCONTEXT_MAX)
                return mntcontext_fail(why, why_size, "context=\"", label, len, "\"",
                                       "the SELinux label is longer than 200 bytes");
        for (size_t i = 0; i < sizeof(reason) / sizeof(reason[0]); i++)
                if (!mntcontext_ident(&c) || !mntcontext_eat(&c, ':'))
                        return mntcontext_fail(why, why_size, "context=\"", label, len, "\"",
                                               reason[i]);
        if (!mntcontext_range(&c) || c.p != c.end)
                return mntcontext_fail(why, why_size, "context=\"", label, len, "\"",
                                       "the SELinux level is not an MLS range such as s0, "
                                       "s0:c1,c2 or s0-s0:c0.c1023");
        return 0;
}

bool mntcontext_is(const char *s)
{
        return strncmp(s, MNTCONTEXT_KEY, MNTCONTEXT_KEY_LEN) == 0;
}

int mntcontext_parse(const char *s, char *ret_label, size_t *ret_len, char *why, size_t why_size)
{
        const char *label, *close;
        size_t len;
        int r;

        if (!mntcontext_is(s) || s[MNTCONTEXT_KEY_LEN] != '"')
                return mntcontext_fail(why, why_size, "", s, strlen(s), "",
                                       "want context=\"<SELinux label>\" (the quotes are "
                                       "required)");
        label = s + MNTCONTEXT_KEY_LEN + 1;
        close = strchr(label, '"');
        if (!close)
                return mntcontext_fail(why, why_size, "", s, strlen(s), "", "no closing quote");
        len = (size_t)(close - label);
        r = mntcontext_check_label(label, len, why, why_size);
        if (r < 0)
                return r;
        if (close[1] != ',' && close[1] != '\0')
                return mntcontext_fail(why, why_size, "", s, strlen(s), "",
                                       "only ',' may follow the closing quote");
        memcpy(ret_label, label, len);
        ret_label[len] = '\0';
        *ret_len = (size_t)(close + 1 - s);
        return 0;
}

int mntcontext_of_options(const char *optstr, char *ret_label)
{
        for (const char *o = optstr; o && *o;) {
                bool quoted = false, ours = mntcontext_is(o);
                const char *value = o + MNTCONTEXT_KEY_LEN;
                const char *p = o;

                /* Any option's value may be quoted (fscontext="..."): skip commas inside. */
                for (; *p && (quoted || *p != ','); p++)
                        if (*p == '"')
                                quoted = !quoted;
                if (quoted)
                        return -EINVAL;
                if (ours) {
                        size_t len = (size_t)(p - value);

                        if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
                                value++;
                                len -= 2;
                        }
                        if (mntcontext_check_label(value, len, NULL, 0) < 0)
                                return -EINVAL;
                        memcpy(ret_label, value, len);
                        ret_label[len] = '\0';
                        return 1;
                }
                o = *p ? p + 1 : p;
        }
        return 0;
}

bool mntcontext_options_match(const char *optstr, const char *label)
{
        char have[MNTCONTEXT_MAX + 1] = "";

        return mntcontext_of_options(optstr, have) >= 0 && strcmp(have, label) == 0;
}
