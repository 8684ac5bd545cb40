/* YAML to a cJSON tree, so kubeconfig code walks one kind of tree (the same
 * kind the exec plugin's JSON output gives). */
#ifndef KLEASE_CONFIG_YAML_JSON_H
#define KLEASE_CONFIG_YAML_JSON_H

#include "klease/klease.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Limits that keep hostile input (alias bombs, deep nesting) cheap. They are
 * checked event by event while libyaml parses, so parsing stops at the first
 * one passed. */
#define KLEASE__YAML_MAX_DEPTH      64
#define KLEASE__YAML_MAX_DEPTH_TEXT "64"
#define KLEASE__YAML_MAX_NODES      (1 << 18)
#define KLEASE__YAML_MAX_ANCHORS    256

/* Keys that a mapping repeats: how many were dropped, and the first one. */
typedef struct klease__yaml_dups {
    size_t count;
    size_t line; /* 1-based line of the mapping that repeats `key` */
    char key[65];
} klease__yaml_dups;

/* Converts the first YAML document in `buf` into a cJSON tree (*out, freed
 * with cJSON_Delete), or *out = NULL when the stream holds no document or
 * only a null. Like client-go (go-yaml's Unmarshal), later documents are
 * ignored. Scalars become strings, keeping their text exactly (the kubeconfig
 * reader interprets "true"/"false" itself); plain null scalars ("", "~",
 * "null") become JSON null. Anchors and aliases are expanded within the
 * KLEASE__YAML_MAX_NODES budget, which also stops alias bombs; recursive
 * aliases and merge keys ("<<") are rejected, and nothing may nest deeper
 * than KLEASE__YAML_MAX_DEPTH. Duplicate keys: the last wins, as in kubectl;
 * `dups` (may be NULL) says whether any were dropped. KLEASE_ECONFIG with a
 * message starting with `origin` (e.g. the file name), KLEASE_ENOMEM. */
klease_status klease__yaml_to_json(const char *buf, size_t len, const char *origin, cJSON **out,
                                   klease__yaml_dups *dups, klease_error *err);

#endif
