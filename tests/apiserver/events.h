/* Watch events below the streams: per-lease replay windows of past events
 * and the queues of the open watches (subscribers), filled under sim->mu by
 * every write so replay and live events cannot interleave wrongly. The store
 * publishes here; watch.c streams from here. Owned by events.c. */
#ifndef KLEASE_TESTS_KSIM_EVENTS_H
#define KLEASE_TESTS_KSIM_EVENTS_H

#include "ksim.h"

typedef struct ksim__subscriber ksim__subscriber;

/* An empty queue for the events of ns/name ("" name: every lease of ns; ""
 * ns: every namespace) for a watch opened by `user`. NULL on OOM. Not
 * attached yet. */
ksim__subscriber *ksim__sub_new(const char *ns, const char *name, const char *user);
/* Frees a detached subscriber and what is left in its queue. NULL-safe. */
void ksim__sub_free(ksim__subscriber *s);
/* Whether the subscriber wants the events of ns/name. */
bool ksim__sub_matches(const ksim__subscriber *s, const char *ns, const char *name);
/* Queues a copy of `line` and wakes the subscriber's stream. -1 on OOM. */
int ksim__sub_push(ksim__subscriber *s, const char *line);
/* The oldest queued line (the caller's), or NULL when the queue is empty. */
char *ksim__sub_pop(ksim__subscriber *s);
/* Whether the stream must end once drained (after the 410 ERROR event). */
bool ksim__sub_ended(const ksim__subscriber *s);

/* With mu held: queues the kept events after `from`, or the 410 ERROR event
 * when some of them were forgotten. -1 on OOM. */
int ksim__events_replay(ksim *sim, ksim__subscriber *s, uint64_t from);
/* With mu held: waits until an event is queued for `s`, ksim__wake_all, or
 * `until_mono_ns` (a write to another lease does not wake it). */
void ksim__sub_wait(ksim *sim, ksim__subscriber *s, int64_t until_mono_ns);

/* With mu held: live events now reach `s` and it counts as an open watch
 * (-1 on OOM: not attached) / no longer (NULL-safe, once only). */
int ksim__events_attach(ksim *sim, ksim__subscriber *s);
void ksim__events_detach(ksim *sim, ksim__subscriber *s);
/* With mu held: keeps `line` (copied) for replay and queues it for every
 * attached subscriber of ns/name. -1 on OOM (the event is then lost for
 * some, and a replay across it answers 410). */
int ksim__events_publish(ksim *sim, const char *ns, const char *name, uint64_t rv,
                         const char *line);
/* At stop: frees the replay windows and any subscriber still attached. */
void ksim__events_free_all(ksim *sim);

#endif
