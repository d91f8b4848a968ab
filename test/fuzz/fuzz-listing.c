/* Pagination tokens (controller/listing.c, index.c): an input is max_entries (4 bytes, little
 * endian) and the starting token, listed over the baseline pool both from the index and from
 * the pool directory. A page that names a next token must continue strictly after it. */
#include <stdlib.h>
#include <string.h>

#include "controller/controller.h"
#include "common/silo.h"
#include "test/fuzz/fuzz-env.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        (void)fuzz_env();
        return 0;
}

static void fuzz_list_volumes(struct controller *c, const char *token, int32_t max)
{
        struct store_volume *v = NULL;
        size_t n = 0;
        char next[STORE_ID_MAX + 1] = "";
        if (volumes_list(c, token, max, &v, &n, next) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                if (*token && strcmp(v[i].id, token) <= 0)
                        abort();
        volumes_list_free(v, n);
}

static void fuzz_page(struct controller *c, enum store_kind kind, const char *prefix,
                      const char *token, int32_t max)
{
        struct volumes_page p = {0};
        if (volumes_page(c, kind, prefix, token, max, NULL, NULL, &p) < 0)
                return;
        for (size_t i = 0; i < p.n; i++)
                if (*token && strcmp(p.ids[i], token) <= 0)
                        abort();
        if (p.next_token[0] && p.n && strcmp(p.next_token, p.ids[p.n - 1]) != 0)
                abort();
        volumes_page_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct controller *c = fuzz_env()->controller;
        uint32_t max = 0;
        if (size < sizeof(max))
                return 0;
        memcpy(&max, data, sizeof(max));
        char *token = malloc(size - sizeof(max) + 1);
        if (!token)
                return 0;
        memcpy(token, data + sizeof(max), size - sizeof(max));
        token[size - sizeof(max)] = '\0';
        fuzz_list_volumes(c, token, (int32_t)max);
        fuzz_page(c, STORE_VOLUMES, "vol", token, (int32_t)max);
        fuzz_page(c, STORE_SNAPSHOTS, "snap", token, (int32_t)max);
        free(token);
        return 0;
}
