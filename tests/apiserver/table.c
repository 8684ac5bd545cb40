/* Separate chaining with a power-of-two bucket array that doubles when the
 * entries outnumber the buckets. Each node holds its hash and a copy of the
 * key ("ns\0name\0") in one allocation. */
#include "table.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_BUCKETS 64

typedef struct node {
    struct node *next;
    uint64_t hash;
    void *value;
    const char *name; /* points into key, after the namespace's NUL */
    char key[];       /* ns, NUL, name, NUL */
} node;

struct ksim__table {
    node **buckets;
    size_t nbuckets; /* a power of two */
    size_t n;
};

/* FNV-1a over ns, a NUL and name: the NUL keeps ("ab","c") and ("a","bc")
 * apart. */
static uint64_t hash_key(const char *ns, const char *name)
{
    uint64_t h = 14695981039346656037u;
    for (const unsigned char *p = (const unsigned char *)ns; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    h *= 1099511628211u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

static node **slot(const ksim__table *t, uint64_t h, const char *ns, const char *name)
{
    node **pp = &t->buckets[h & (t->nbuckets - 1)];
    while (*pp &&
           ((*pp)->hash != h || strcmp((*pp)->key, ns) != 0 || strcmp((*pp)->name, name) != 0))
        pp = &(*pp)->next;
    return pp;
}

void *ksim__table_get(const ksim__table *t, const char *ns, const char *name)
{
    if (t == NULL || t->n == 0)
        return NULL;
    node *n = *slot(t, hash_key(ns, name), ns, name);
    return n ? n->value : NULL;
}

/* Doubles the buckets; on OOM the table stays as it is (only slower). */
static void grow(ksim__table *t)
{
    size_t nb = t->nbuckets * 2;
    node **b = calloc(nb, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        while (t->buckets[i]) {
            node *n = t->buckets[i];
            t->buckets[i] = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
}

int ksim__table_put(ksim__table **tp, const char *ns, const char *name, void *value, void **old)
{
    if (old)
        *old = NULL;
    ksim__table *t = *tp;
    if (t == NULL) {
        if ((t = calloc(1, sizeof(*t))) == NULL)
            return -1;
        if ((t->buckets = calloc(MIN_BUCKETS, sizeof(*t->buckets))) == NULL) {
            free(t);
            return -1;
        }
        t->nbuckets = MIN_BUCKETS;
        *tp = t;
    }
    uint64_t h = hash_key(ns, name);
    node **pp = slot(t, h, ns, name);
    if (*pp) {
        if (old)
            *old = (*pp)->value;
        (*pp)->value = value;
        return 0;
    }
    size_t ln = strlen(ns), lm = strlen(name);
    node *n = malloc(sizeof(*n) + ln + lm + 2);
    if (n == NULL)
        return -1;
    memcpy(n->key, ns, ln + 1);
    memcpy(n->key + ln + 1, name, lm + 1);
    n->name = n->key + ln + 1;
    n->hash = h;
    n->value = value;
    n->next = NULL;
    *pp = n;
    if (++t->n > t->nbuckets)
        grow(t);
    return 0;
}

void *ksim__table_remove(ksim__table *t, const char *ns, const char *name)
{
    if (t == NULL || t->n == 0)
        return NULL;
    node **pp = slot(t, hash_key(ns, name), ns, name);
    node *n = *pp;
    if (n == NULL)
        return NULL;
    *pp = n->next;
    void *v = n->value;
    free(n);
    t->n--;
    return v;
}

size_t ksim__table_count(const ksim__table *t)
{
    return t ? t->n : 0;
}

/* qsort's elements are nodes stored as void pointers. */
static int cmp_nodes(const void *a, const void *b)
{
    const node *x = *(void *const *)a, *y = *(void *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->name, y->name);
}

static bool in_ns(const node *n, const char *ns)
{
    return ns == NULL || ns[0] == '\0' || strcmp(n->key, ns) == 0;
}

long ksim__table_sorted(const ksim__table *t, const char *ns, void ***out)
{
    *out = NULL;
    size_t total = ksim__table_count(t);
    if (total == 0)
        return 0;
    void **v = malloc(total * sizeof(*v));
    if (v == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (node *n = t->buckets[i]; n; n = n->next)
            if (in_ns(n, ns))
                v[k++] = n;
    if (k == 0) {
        free(v);
        return 0;
    }
    qsort(v, k, sizeof(*v), cmp_nodes);
    for (size_t i = 0; i < k; i++)
        v[i] = ((node *)v[i])->value;
    *out = v;
    return (long)k;
}

void ksim__table_each(const ksim__table *t, const char *ns, void (*fn)(void *value, void *arg),
                      void *arg)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (node *n = t->buckets[i]; n; n = n->next)
            if (in_ns(n, ns))
                fn(n->value, arg);
}

void ksim__table_free(ksim__table *t, void (*free_value)(void *value))
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        while (t->buckets[i]) {
            node *n = t->buckets[i];
            t->buckets[i] = n->next;
            if (free_value)
                free_value(n->value);
            free(n);
        }
    free(t->buckets);
    free(t);
}
