/* YAML (libyaml's document loader) to cJSON. */
#include "kube/yaml_json.h"

#include "core/error.h"

#include <string.h>
#include <yaml.h>

typedef struct conv {
    yaml_document_t *doc;
    size_t nodes_left;
    size_t bytes_left;
    const char *what; /* why conversion failed; NULL: out of memory */
    yaml_mark_t mark;
} conv;

static bool is_plain_null(const yaml_node_t *n)
{
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    return len == 0 || (len == 1 && v[0] == '~') ||
           (len == 4 &&
            (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 || memcmp(v, "NULL", 4) == 0));
}

static cJSON *fail_at(conv *cv, const yaml_node_t *n, const char *what)
{
    cv->what = what;
    cv->mark = n->start_mark;
    return NULL;
}

/* cJSON strings are NUL-terminated: a scalar with an embedded NUL (possible
 * with "\0" escapes) would be cut silently, so refuse it. */
static bool scalar_ok(const yaml_node_t *n)
{
    return memchr(n->data.scalar.value, '\0', n->data.scalar.length) == NULL;
}

static cJSON *convert(conv *cv, yaml_node_t *n, int depth)
{
    if (n == NULL)
        return fail_at(cv, &(yaml_node_t){0}, "dangling node");
    /* Aliases share nodes, so a cycle or an alias bomb shows up here as depth
     * or as a node count far beyond the input's size. */
    if (depth > KLEASE__YAML_MAX_DEPTH)
        return fail_at(cv, n, "nested too deeply (or a recursive alias)");
    if (cv->nodes_left == 0)
        return fail_at(cv, n, "too many nodes after expanding aliases");
    cv->nodes_left--;

    switch (n->type) {
    case YAML_SCALAR_NODE:
        if (is_plain_null(n))
            return cJSON_CreateNull();
        if (!scalar_ok(n))
            return fail_at(cv, n, "a scalar contains a NUL character");
        if (n->data.scalar.length > cv->bytes_left)
            return fail_at(cv, n, "too much text after expanding aliases");
        cv->bytes_left -= n->data.scalar.length;
        return cJSON_CreateString((const char *)n->data.scalar.value);
    case YAML_SEQUENCE_NODE: {
        cJSON *arr = cJSON_CreateArray();
        if (arr == NULL)
            return NULL;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            cJSON *child = convert(cv, yaml_document_get_node(cv->doc, *it), depth + 1);
            if (child == NULL) {
                cJSON_Delete(arr);
                return NULL;
            }
            cJSON_AddItemToArray(arr, child);
        }
        return arr;
    }
    case YAML_MAPPING_NODE: {
        cJSON *obj = cJSON_CreateObject();
        if (obj == NULL)
            return NULL;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(cv->doc, p->key);
            if (k == NULL || k->type != YAML_SCALAR_NODE) {
                cJSON_Delete(obj);
                return fail_at(cv, k != NULL ? k : n, "a mapping key is not a scalar");
            }
            const char *key = (const char *)k->data.scalar.value;
            if (!scalar_ok(k)) {
                cJSON_Delete(obj);
                return fail_at(cv, k, "a mapping key contains a NUL character");
            }
            if (k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(key, "<<") == 0) {
                cJSON_Delete(obj);
                return fail_at(cv, k, "YAML merge keys (<<) are not supported");
            }
            cJSON *child = convert(cv, yaml_document_get_node(cv->doc, p->value), depth + 1);
            if (child == NULL) {
                cJSON_Delete(obj);
                return NULL;
            }
            /* Checking for an earlier duplicate would cost O(n^2) on large
             * hostile mappings; lookups find the first one anyway. */
            if (!cJSON_AddItemToObject(obj, key, child)) {
                /* cJSON could not copy the key; the child was not attached. */
                cJSON_Delete(child);
                cJSON_Delete(obj);
                return NULL;
            }
        }
        return obj;
    }
    case YAML_NO_NODE: break;
    }
    return fail_at(cv, n, "unexpected node");
}

klease_status klease__yaml_to_json(const char *buf, size_t len, const char *origin, cJSON **out,
                                   klease_error *err)
{
    klease_status st = KLEASE_OK;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_doc = false;
    cJSON *tree = NULL;

    *out = NULL;
    if (!yaml_parser_initialize(&parser))
        return klease__fail(err, KLEASE_ENOMEM, "%s: out of memory", origin);
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        if (parser.error == YAML_MEMORY_ERROR)
            st = klease__fail(err, KLEASE_ENOMEM, "%s: out of memory", origin);
        else
            st = klease__fail(
                err, KLEASE_ECONFIG, "%s: invalid YAML at line %zu, column %zu: %s%s%s", origin,
                parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                parser.problem != NULL ? parser.problem : "syntax error",
                parser.context != NULL ? " " : "", parser.context != NULL ? parser.context : "");
        goto out;
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        goto out; /* an empty stream */

    /* Expanded aliases may legitimately repeat text (the same CA in several
     * clusters), but never more than a few times the input. */
    conv cv = {.doc = &doc, .nodes_left = KLEASE__YAML_MAX_NODES, .bytes_left = 4 * len + 65536};
    tree = convert(&cv, root, 0);
    if (tree == NULL) {
        if (cv.what == NULL)
            st = klease__fail(err, KLEASE_ENOMEM, "%s: out of memory", origin);
        else
            st = klease__fail(err, KLEASE_ECONFIG, "%s: line %zu, column %zu: %s", origin,
                              cv.mark.line + 1, cv.mark.column + 1, cv.what);
        goto out;
    }
    if (cJSON_IsNull(tree)) {
        cJSON_Delete(tree);
        tree = NULL;
    }
    *out = tree;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return st;
}
