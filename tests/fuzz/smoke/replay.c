/* The fuzz smoke: runs a fuzz target's LLVMFuzzerTestOneInput without
 * libFuzzer, so the default (gcc) build and the ASan+UBSan build check every
 * target on every commit. It feeds each file of the given directories (the
 * seed corpus and the regression inputs of past crashes), then a fixed
 * number of deterministic mutations of them: a fixed seed, so a failure
 * reproduces exactly. A crash or abort() in the target fails the test.
 * Usage: fuzz_smoke_<target> [--mutations N] DIR... */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUTS      4096
#define MAX_INPUT_BYTES ((size_t)1 << 20)

typedef struct input {
    char *path;
    uint8_t *data;
    size_t len;
} input;

static input inputs[MAX_INPUTS];
static size_t ninputs;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    /* xorshift64*: small, fast, and the same sequence on every machine. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static size_t below(size_t n)
{
    return n == 0 ? 0 : (size_t)(rng() % n);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const input *)a)->path, ((const input *)b)->path);
}

static void load_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return; /* no regressions yet for this target */
        fprintf(stderr, "fuzz smoke: cannot open %s\n", dir);
        exit(2);
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        if (ninputs == MAX_INPUTS)
            break;
        size_t n = strlen(dir) + strlen(ent->d_name) + 2;
        char *path = malloc(n);
        snprintf(path, n, "%s/%s", dir, ent->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            free(path);
            continue;
        }
        uint8_t *buf = malloc(MAX_INPUT_BYTES);
        size_t len = fread(buf, 1, MAX_INPUT_BYTES, f);
        fclose(f);
        uint8_t *fit = realloc(buf, len ? len : 1);
        inputs[ninputs++] = (input){path, fit ? fit : buf, len};
    }
    closedir(d);
}

/* One mutation of `in` into `out` (capacity MAX_INPUT_BYTES), libFuzzer-like:
 * flip, replace with a byte that matters to JSON/YAML, insert, erase,
 * duplicate, truncate, or splice another input's tail. */
static size_t mutate(const input *in, uint8_t *out)
{
    static const uint8_t special[] = {'"', '\\', '{',  '}',  '[', ']',  ':', ',', '\n', '\r',
                                      ' ', '\0', 0xff, 0xc3, '0', '9',  '-', '.', 'e',  'Z',
                                      'T', '&',  '*',  '!',  '#', '\t', 'u', 'n'};
    size_t len = in->len;
    memcpy(out, in->data, len);
    int rounds = 1 + (int)below(4);
    for (int r = 0; r < rounds; r++) {
        size_t pos = below(len + 1);
        switch (below(7)) {
        case 0:
            if (len > 0)
                out[below(len)] ^= (uint8_t)(1u << below(8));
            break;
        case 1:
            if (len > 0)
                out[below(len)] = special[below(sizeof special)];
            break;
        case 2:
            if (len < MAX_INPUT_BYTES) {
                memmove(out + pos + 1, out + pos, len - pos);
                out[pos] = special[below(sizeof special)];
                len++;
            }
            break;
        case 3: {
            size_t n = below(len - pos + 1);
            n = n > 16 ? below(17) : n;
            memmove(out + pos, out + pos + n, len - pos - n);
            len -= n;
            break;
        }
        case 4: {
            size_t n = below(len - pos + 1) % 64;
            if (len + n <= MAX_INPUT_BYTES) {
                /* The bytes at pos stay where they were: a copy of them now follows. */
                memmove(out + pos + n, out + pos, len - pos);
                len += n;
            }
            break;
        }
        case 5: len = pos; break;
        default: {
            const input *other = &inputs[below(ninputs)];
            size_t from = below(other->len + 1);
            size_t n = other->len - from;
            if (pos + n > MAX_INPUT_BYTES)
                n = MAX_INPUT_BYTES - pos;
            memcpy(out + pos, other->data + from, n);
            len = pos + n;
            break;
        }
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    long mutations = 2000;
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "--mutations") == 0) {
        char *end;
        mutations = strtol(argv[2], &end, 10);
        if (*end != '\0' || mutations < 0) {
            fprintf(stderr, "fuzz smoke: bad --mutations\n");
            return 2;
        }
        i = 3;
    }
    for (; i < argc; i++)
        load_dir(argv[i]);
    if (ninputs == 0) {
        fprintf(stderr, "fuzz smoke: no inputs\n");
        return 2;
    }
    /* Sorted, so the mutation sequence does not depend on readdir order. */
    qsort(inputs, ninputs, sizeof inputs[0], by_path);
    for (size_t k = 0; k < ninputs; k++) {
        /* Each input in a buffer of its exact size, so ASan sees overreads. */
        uint8_t *copy = malloc(inputs[k].len ? inputs[k].len : 1);
        memcpy(copy, inputs[k].data, inputs[k].len);
        LLVMFuzzerTestOneInput(copy, inputs[k].len);
        free(copy);
    }
    uint8_t *buf = malloc(MAX_INPUT_BYTES);
    for (long m = 0; m < mutations; m++) {
        const input *in = &inputs[below(ninputs)];
        size_t len = mutate(in, buf);
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, buf, len);
        LLVMFuzzerTestOneInput(copy, len);
        free(copy);
    }
    free(buf);
    printf("fuzz smoke: %zu inputs, %ld mutations, no crash\n", ninputs, mutations);
    for (size_t k = 0; k < ninputs; k++) {
        free(inputs[k].path);
        free(inputs[k].data);
    }
    return 0;
}
