/*-------------------------------------------------------------------------
 *
 * sbdedup.c
 *	  A bounded table of values already in the heap, for deduplication.
 *
 * This is the seed library's identity map, bounded: a set-associative
 * cache of (hash of value, heap offset) with four 64-byte slots per set.
 * A value already in the table, in the same form (header size and
 * alignment), is not written again; its field points at the earlier copy.
 * Payloads of up to 40 bytes are kept in
 * the slot and compared there; longer ones are compared against the heap
 * through a callback, so a hash collision can never merge two values.
 * When a set is full, a slot chosen by the hash is replaced: memory stays
 * fixed whatever the input.
 *
 *-------------------------------------------------------------------------
 */
#include "sbdedup.h"

#include <stdlib.h>

#define WAYS	4

/* Set up a table within 'budget' bytes; false if out of memory. */
bool
sb_dedup_init(sb_dedup *d, size_t budget, sb_dedup_same_fn same, void *arg)
{
	uint64_t	nsets = 1;

	while (nsets * 2 * WAYS * sizeof(sb_dedup_slot) <= budget)
		nsets *= 2;
	d->nsets = nsets;
	d->same = same;
	d->arg = arg;
	d->slots = calloc(nsets * WAYS, sizeof(sb_dedup_slot));
	return d->slots != NULL;
}

/*
 * Hash of a payload to be stored in a given form (header size and
 * alignment); never 0.
 */
uint64_t
sb_dedup_hash(const void *payload, size_t len, uint32_t form)
{
	uint64_t	h = sb_checksum(payload, len) ^ ((uint64_t) form * 0x9E3779B97F4A7C15u);

	return h ? h : 1;
}

/* Is this payload already stored in this form?  If so, set *offset. */
bool
sb_dedup_find(sb_dedup *d, uint64_t hash, uint32_t form, const void *payload,
			  size_t len, uint64_t *offset)
{
	sb_dedup_slot *set = &d->slots[(hash & (d->nsets - 1)) * WAYS];

	for (int i = 0; i < WAYS; i++)
	{
		sb_dedup_slot *s = &set[i];

		if (s->hash != hash || s->len != len || s->form != form)
			continue;
		/* the low byte of 'form' is the header size: skip it to the payload */
		if (len <= SB_DEDUP_INLINE ? memcmp(s->data, payload, len) == 0 :
			d->same(d->arg, s->offset + (form & 0xFF), payload, len))
		{
			*offset = s->offset;
			return true;
		}
	}
	return false;
}

/* Remember that this payload is stored in this form at 'offset'. */
void
sb_dedup_insert(sb_dedup *d, uint64_t hash, uint32_t form, const void *payload,
				size_t len, uint64_t offset)
{
	sb_dedup_slot *set = &d->slots[(hash & (d->nsets - 1)) * WAYS];
	sb_dedup_slot *s = &set[(hash >> 62) & (WAYS - 1)];

	for (int i = 0; i < WAYS; i++)
	{
		if (set[i].hash == 0)
		{
			s = &set[i];
			break;
		}
	}
	s->hash = hash;
	s->offset = offset;
	s->len = (uint32_t) len;
	s->form = form;
	if (len <= SB_DEDUP_INLINE)
		memcpy(s->data, payload, len);
}

/* Release the table. */
void
sb_dedup_free(sb_dedup *d)
{
	free(d->slots);
	d->slots = NULL;
}
