/* Random crash testing of the controller: a model of what each client was told, clients that
 * send random valid calls and record them, the retry of a call that got no answer, and the
 * checks of the pool, the listings and the data files against the model. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "test/integration/harness-ctl.h"

#define HC_CLIENTS 2
#define HC_VOLS    5
#define HC_SNAPS   4
#define HC_MEMBERS 2
#define HC_IMG     (256 * 1024) /* the head of each data file the model tracks byte by byte */
#define HC_ID      65

enum hc_kind {
        HC_CREATE,
        HC_RECREATE, /* the same create again: OK, same id */
        HC_CONFLICT, /* the name with other arguments: ALREADY_EXISTS */
        HC_DELETE,
        HC_SNAP,
        HC_DELSNAP,
        HC_DELMEMBER, /* a group member alone: FAILED_PRECONDITION */
        HC_PUBLISH,
        HC_UNPUBLISH,
        HC_EXPAND,
        HC_MODIFY, /* thin to thick */
        HC_GROUP,
        HC_DELGROUP,
        HC_WRITE, /* the test writes into a data file, as a pod would */
        HC_KINDS
};

/* A volume or snapshot as its client knows it. */
struct hc_obj {
        bool present;
        char id[HC_ID]; /* kept after a delete: its id must stay absent */
        uint64_t size;
        unsigned char *img; /* expected first HC_IMG bytes; the rest is zeros */
};

enum hc_source { HC_SRC_NONE, HC_SRC_SNAP, HC_SRC_VOL };

/* The arguments of a call, kept so that the same call can be sent again. */
struct hc_op {
        enum hc_kind kind;
        int slot;                /* volume, snapshot or group slot */
        int vols[HC_MEMBERS];    /* snapshot: vols[0]; group: both */
        bool thick;              /* create */
        int64_t size;            /* create: required bytes (0: the source's); expand */
        enum hc_source src_kind; /* create */
        char src_id[HC_ID];
        unsigned char *src_img; /* create: the source's head when the call was chosen */
        uint64_t src_size;
        enum err_status want;
};

struct hc_vol {
        struct hc_obj o;
        bool published, thick, modified;
        struct hc_op create; /* what made it */
};

struct hc_group {
        bool present;
        char id[HC_ID];
        int vols[HC_MEMBERS];
        struct hc_obj member[HC_MEMBERS];
};

struct hc_client {
        int index;
        uint64_t rng;
        struct hc_vol vol[HC_VOLS];
        struct hc_obj snap[HC_SNAPS];
        struct hc_group group;
        bool pending; /* op was sent and got no answer */
        struct hc_op op;
        unsigned calls[HC_KINDS], unanswered[HC_KINDS];
};

struct hc_model {
        struct harness *h;
        unsigned seed, round;
        atomic_bool stop;
        struct hc_client clients[HC_CLIENTS];
        pthread_mutex_t lock;
        char failure[2048]; /* the first failure a client thread saw */
};

/* What an answer carried. */
struct hc_reply {
        char id[HC_ID];
        int64_t size;
        char member_id[HC_MEMBERS][HC_ID];
        char member_src[HC_MEMBERS][HC_ID];
        int64_t member_size[HC_MEMBERS];
        char msg[512];
};

/* Sends op (HC_WRITE: writes into the data file itself); the answer's contents into rep. */
enum err_status hc_send(struct hc_model *m, struct hc_client *cl, const struct hc_op *op,
                        struct hc_reply *rep);
/* A random number below n from the client's generator. */
unsigned hc_below(struct hc_client *cl, unsigned n);
/* The name of the client's object what ('v', 's', 'g') in slot. */
void hc_name(const struct hc_client *cl, char what, int slot, char *buf, size_t size);

uint64_t hc_rng_seed(unsigned seed, unsigned round, unsigned salt);
uint64_t hc_rng(uint64_t *state);

void hc_model_init(struct hc_model *m, struct harness *h, unsigned seed);
void hc_model_release(struct hc_model *m);

/* Client side (its own thread): sends random valid calls until m->stop; a call that got no
 * answer is left in cl->op. */
void hc_client_begin_round(struct hc_model *m, struct hc_client *cl, unsigned round);
void hc_client_stream(struct hc_model *m, struct hc_client *cl);
/* Sends the unanswered call again until it is answered; the answer must be the spec's. */
void hc_client_retry(struct hc_model *m, struct hc_client *cl);

/* Records the first failure a client thread sees and stops the clients. */
void hc_fail(struct hc_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A status that is no answer: the call did not get through, or the daemon died under it. */
bool hc_is_unanswered(enum err_status st);
/* Fails the test with what a client thread recorded. */
void hc_assert_no_failure(struct hc_model *m);

/* The pool after recovery: no temp file, every data file with its metadata and back, no
 * group member without its group. */
void hc_check_pool(struct hc_model *m);
/* ListVolumes, ListSnapshots and ControllerGetVolume against the model; with unanswered
 * true, an object an unanswered call touched may be either way. */
void hc_check_listings(struct hc_model *m, bool unanswered);
/* Every data file's size and content against the model. */
void hc_check_data(struct hc_model *m);
/* Deletes everything the clients made; the pool must then hold no object at all. */
void hc_teardown_all(struct hc_model *m);
void hc_check_pool_empty(struct hc_model *m);
/* "calls=... unanswered=..." per kind. */
const char *hc_stats(const struct hc_model *m);
