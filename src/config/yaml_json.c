/* YAML to cJSON, built event by event from libyaml's parser. libyaml's
 * document loader cannot be stopped early, and its scanner does work
 * quadratic in the nesting of flow collections, so a loader would spend
 * minutes on a small file of "[[[[...". Here every limit is checked as each
 * event arrives, and parsing stops at the first one that is passed: the
 * scanner never sees more than a bounded look-ahead past that point. */
#include "config/yaml_json.h"

#include "core/alloc.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct frame {
    cJSON *node;     /* the open array or object */
    char *key;       /* object: the key waiting for its value; NULL: a key comes next */
    size_t anchor;   /* 1 + index in anchors; 0: none */
    size_t nodes_at; /* nodes used when it opened, to size an anchored subtree */
    size_t bytes_at;
    int height;  /* levels below this node so far */
    size_t line; /* where it starts, for messages */
} frame;

typedef struct anchor {
    char *name;
    const cJSON *node; /* NULL while the anchored collection is still open */
    size_t nodes;      /* what expanding an alias to it costs */
    size_t bytes;
    int height;
} anchor;

typedef struct builder {
    frame stack[KLEASE__YAML_MAX_DEPTH + 1];
    size_t depth;
    anchor anchors[KLEASE__YAML_MAX_ANCHORS];
    size_t n_anchors;
    size_t nodes_used;
    size_t nodes_max;
    size_t bytes_used;
    size_t bytes_max;
    cJSON *root;
    bool have_root;
    cJSON *spare; /* owns nodes that left the tree (replaced duplicates, anchored keys) */
    klease__yaml_dups *dups;
    const char *what; /* why building failed; NULL: out of memory */
    size_t line;
} builder;

static bool is_plain_null(const yaml_event_t *e)
{
    if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)e->data.scalar.value;
    size_t len = e->data.scalar.length;
    return len == 0 || (len == 1 && v[0] == '~') ||
           (len == 4 &&
            (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 || memcmp(v, "NULL", 4) == 0));
}

static bool fail(builder *b, const yaml_event_t *e, const char *what)
{
    b->what = what;
    b->line = e->start_mark.line + 1;
    return false;
}

static bool charge(builder *b, const yaml_event_t *e, size_t nodes, size_t bytes)
{
    /* Aliases share nodes, so an alias bomb shows up here as a node count
     * or a text size far beyond the input's. */
    if (nodes > b->nodes_max - b->nodes_used)
        return fail(b, e, "too many nodes after expanding aliases");
    if (bytes > b->bytes_max - b->bytes_used)
        return fail(b, e, "too much text after expanding aliases");
    b->nodes_used += nodes;
    b->bytes_used += bytes;
    return true;
}

static const char *anchor_of(const yaml_event_t *e)
{
    switch (e->type) {
    case YAML_SCALAR_EVENT: return (const char *)e->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT: return (const char *)e->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT: return (const char *)e->data.mapping_start.anchor;
    default: return NULL;
    }
}

/* Registers the anchor an event defines (the node comes later for a
 * collection). Returns 1 + its index, 0 when the event has none, or
 * (size_t)-1 on failure. */
static size_t define_anchor(builder *b, const yaml_event_t *e)
{
    const char *name = anchor_of(e);
    if (name == NULL)
        return 0;
    /* A fixed table keeps alias lookups cheap; real files use a few. */
    if (b->n_anchors == KLEASE__YAML_MAX_ANCHORS) {
        fail(b, e, "too many anchors (&name)");
        return (size_t)-1;
    }
    anchor *a = &b->anchors[b->n_anchors];
    if ((a->name = klease__strdup(name)) == NULL)
        return (size_t)-1;
    a->node = NULL;
    return ++b->n_anchors;
}

static void finish_anchor(builder *b, size_t idx, const cJSON *node, size_t nodes_at,
                          size_t bytes_at, int height)
{
    if (idx == 0)
        return;
    anchor *a = &b->anchors[idx - 1];
    a->node = node;
    a->nodes = b->nodes_used - nodes_at;
    a->bytes = b->bytes_used - bytes_at;
    a->height = height;
}

/* The latest definition wins, as YAML says. */
static const anchor *find_anchor(const builder *b, const char *name)
{
    for (size_t i = b->n_anchors; i > 0; i--) {
        if (strcmp(b->anchors[i - 1].name, name) == 0)
            return &b->anchors[i - 1];
    }
    return NULL;
}

static bool keep_spare(builder *b, cJSON *node)
{
    if (b->spare == NULL && (b->spare = cJSON_CreateArray()) == NULL) {
        cJSON_Delete(node);
        return false;
    }
    cJSON_AddItemToArray(b->spare, node);
    return true;
}

/* Attaches a finished node (`height` levels deep) to the open collection,
 * or makes it the root. Takes ownership of `node`. */
static bool attach(builder *b, cJSON *node, int height)
{
    if (node == NULL)
        return false;
    if (b->depth == 0) {
        b->root = node;
        b->have_root = true;
        return true;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->height < height + 1)
        f->height = height + 1;
    if (cJSON_IsArray(f->node)) {
        cJSON_AddItemToArray(f->node, node);
        return true;
    }
    bool ok = cJSON_AddItemToObject(f->node, f->key, node);
    if (!ok)
        cJSON_Delete(node); /* cJSON could not copy the key; the node was not attached */
    klease__free(f->key);
    f->key = NULL;
    return ok;
}

/* A mapping key: text, and no NUL, which cJSON's keys could not hold. */
static bool take_key(builder *b, const yaml_event_t *e, const char *text, size_t len, bool plain)
{
    frame *f = &b->stack[b->depth - 1];
    if (memchr(text, '\0', len) != NULL)
        return fail(b, e, "a mapping key contains a NUL character");
    if (plain && strcmp(text, "<<") == 0)
        return fail(b, e, "YAML merge keys (<<) are not supported");
    if (!charge(b, e, 0, len))
        return false;
    return (f->key = klease__strndup(text, len)) != NULL;
}

static bool expects_key(const builder *b)
{
    if (b->depth == 0)
        return false;
    const frame *f = &b->stack[b->depth - 1];
    return cJSON_IsObject(f->node) && f->key == NULL;
}

static bool on_scalar(builder *b, const yaml_event_t *e)
{
    const char *text = (const char *)e->data.scalar.value;
    size_t len = e->data.scalar.length;
    size_t aidx = define_anchor(b, e);
    if (aidx == (size_t)-1)
        return false;
    size_t nodes_at = b->nodes_used, bytes_at = b->bytes_used;
    if (expects_key(b)) {
        if (!take_key(b, e, text, len, e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE))
            return false;
        if (aidx == 0)
            return true;
        /* An anchored key can be used as a value later: keep a node for it. */
        cJSON *copy = cJSON_CreateString(b->stack[b->depth - 1].key);
        if (copy == NULL || !keep_spare(b, copy))
            return false;
        finish_anchor(b, aidx, copy, nodes_at, bytes_at, 0);
        b->anchors[aidx - 1].nodes = 1;
        return true;
    }
    if (b->depth > KLEASE__YAML_MAX_DEPTH)
        return fail(b, e, "nested too deeply (more than " KLEASE__YAML_MAX_DEPTH_TEXT " levels)");
    if (!charge(b, e, 1, len))
        return false;
    cJSON *node;
    if (is_plain_null(e)) {
        node = cJSON_CreateNull();
    } else {
        /* cJSON strings end at a NUL: one inside (from a "\0" escape) would
         * cut the value silently. */
        if (memchr(text, '\0', len) != NULL)
            return fail(b, e, "a scalar contains a NUL character");
        node = cJSON_CreateString(text);
    }
    if (node == NULL)
        return false;
    finish_anchor(b, aidx, node, nodes_at, bytes_at, 0);
    return attach(b, node, 0);
}

static bool on_alias(builder *b, const yaml_event_t *e)
{
    const anchor *a = find_anchor(b, (const char *)e->data.alias.anchor);
    if (a == NULL)
        return fail(b, e, "an alias (*name) refers to an undefined anchor");
    if (a->node == NULL)
        return fail(b, e, "a recursive alias (an alias inside its own anchor)");
    if (expects_key(b)) {
        if (!cJSON_IsString(a->node))
            return fail(b, e, "a mapping key is not a scalar");
        const char *text = a->node->valuestring;
        return take_key(b, e, text, strlen(text), false);
    }
    if (b->depth + (size_t)a->height > KLEASE__YAML_MAX_DEPTH)
        return fail(b, e, "nested too deeply (after expanding an alias)");
    if (!charge(b, e, a->nodes, a->bytes))
        return false;
    return attach(b, cJSON_Duplicate(a->node, true), a->height);
}

static bool on_start(builder *b, const yaml_event_t *e, bool mapping)
{
    if (expects_key(b))
        return fail(b, e, "a mapping key is not a scalar");
    /* The depth is checked before the collection is read, so a file that
     * nests a million levels costs no more than one that nests 65. */
    if (b->depth >= KLEASE__YAML_MAX_DEPTH + 1)
        return fail(b, e, "nested too deeply (more than " KLEASE__YAML_MAX_DEPTH_TEXT " levels)");
    size_t aidx = define_anchor(b, e);
    if (aidx == (size_t)-1)
        return false;
    size_t nodes_at = b->nodes_used, bytes_at = b->bytes_used;
    if (!charge(b, e, 1, 0))
        return false;
    cJSON *node = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
    if (node == NULL)
        return false;
    b->stack[b->depth++] = (frame){.node = node,
                                   .anchor = aidx,
                                   .nodes_at = nodes_at,
                                   .bytes_at = bytes_at,
                                   .line = e->start_mark.line + 1};
    return true;
}

typedef struct keyed {
    cJSON *item;
    size_t index;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->item->string, y->item->string);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* kubectl (go-yaml into a map, then JSON) keeps the last value of a key
 * that a mapping repeats: drop the earlier ones. Sorting keeps this
 * O(n log n) on hostile mappings with many keys. */
static bool drop_repeated_keys(builder *b, frame *f)
{
    size_t n = (size_t)cJSON_GetArraySize(f->node);
    if (n < 2)
        return true;
    keyed *items = klease__malloc(n * sizeof *items);
    if (items == NULL)
        return false;
    size_t i = 0;
    for (cJSON *it = f->node->child; it != NULL; it = it->next, i++)
        items[i] = (keyed){it, i};
    qsort(items, n, sizeof *items, cmp_keyed);
    bool ok = true;
    for (i = 0; i + 1 < n && ok; i++) {
        if (strcmp(items[i].item->string, items[i + 1].item->string) != 0)
            continue;
        if (b->dups != NULL) {
            if (b->dups->count++ == 0) {
                snprintf(b->dups->key, sizeof b->dups->key, "%s", items[i].item->string);
                b->dups->line = f->line;
            }
        }
        /* Kept, not freed: an anchor may point at it. */
        ok = keep_spare(b, cJSON_DetachItemViaPointer(f->node, items[i].item));
    }
    klease__free(items);
    return ok;
}

static bool on_end(builder *b, const yaml_event_t *e)
{
    if (b->depth == 0)
        return fail(b, e, "a collection ends that never started"); /* libyaml never does this */
    frame f = b->stack[--b->depth];
    if (cJSON_IsObject(f.node) && !drop_repeated_keys(b, &f)) {
        cJSON_Delete(f.node);
        return false;
    }
    finish_anchor(b, f.anchor, f.node, f.nodes_at, f.bytes_at, f.height);
    return attach(b, f.node, f.height);
}

static void builder_clear(builder *b)
{
    for (size_t i = 0; i < b->depth; i++) {
        cJSON_Delete(b->stack[i].node);
        klease__free(b->stack[i].key);
    }
    for (size_t i = 0; i < b->n_anchors; i++)
        klease__free(b->anchors[i].name);
    cJSON_Delete(b->spare);
    cJSON_Delete(b->root);
}

/* Feeds one event to the builder. Returns false on failure; *done when the
 * first document (or an empty stream) has ended. */
static bool on_event(builder *b, const yaml_event_t *e, bool *done)
{
    switch (e->type) {
    case YAML_SCALAR_EVENT: return on_scalar(b, e);
    case YAML_ALIAS_EVENT: return on_alias(b, e);
    case YAML_SEQUENCE_START_EVENT: return on_start(b, e, false);
    case YAML_MAPPING_START_EVENT: return on_start(b, e, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: return on_end(b, e);
    case YAML_DOCUMENT_END_EVENT:
    case YAML_STREAM_END_EVENT: *done = true; return true;
    default: return true;
    }
}

klease_status klease__yaml_to_json(const char *buf, size_t len, const char *origin, cJSON **out,
                                   klease__yaml_dups *dups, klease_error *err)
{
    klease_status st = KLEASE_OK;
    yaml_parser_t parser;
    builder *b = NULL;

    *out = NULL;
    if (dups != NULL)
        *dups = (klease__yaml_dups){0};
    if (!yaml_parser_initialize(&parser))
        return klease__fail(err, KLEASE_ENOMEM, "%s: out of memory", origin);
    /* The stack and the anchor table are a few KiB: not on the caller's stack. */
    if ((b = klease__calloc(1, sizeof *b)) == NULL) {
        st = klease__fail(err, KLEASE_ENOMEM, "%s: out of memory", origin);
        goto out;
    }
    /* Expanded aliases may legitimately repeat text (the same CA in several
     * clusters), but never more than a few times the input. */
    b->nodes_max = KLEASE__YAML_MAX_NODES;
    b->bytes_max = 4 * len + 65536;
    b->dups = dups;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    for (bool done = false; !done;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR)
                st = klease__fail(err, KLEASE_ENOMEM, "%s: out of memory", origin);
            else
                st = klease__fail(err, KLEASE_ECONFIG,
                                  "%s: invalid YAML at line %zu, column %zu: %s%s%s", origin,
                                  parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                  parser.problem != NULL ? parser.problem : "syntax error",
                                  parser.context != NULL ? " " : "",
                                  parser.context != NULL ? parser.context : "");
            goto out;
        }
        bool ok = on_event(b, &ev, &done);
        yaml_event_delete(&ev);
        if (!ok) {
            if (b->what == NULL)
                st = klease__fail(err, KLEASE_ENOMEM, "%s: out of memory", origin);
            else
                st =
                    klease__fail(err, KLEASE_ECONFIG, "%s: line %zu: %s", origin, b->line, b->what);
            goto out;
        }
    }
    if (b->root != NULL && !cJSON_IsNull(b->root)) {
        *out = b->root;
        b->root = NULL;
    }
out:
    if (b != NULL)
        builder_clear(b);
    klease__free(b);
    yaml_parser_delete(&parser);
    return st;
}
