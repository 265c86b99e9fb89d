/*-------------------------------------------------------------------------
 *
 * sbdedup.h
 *	  A bounded table of values already in the heap, for deduplication.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SBDEDUP_H
#define SBDEDUP_H

#include "sbinternal.h"

#define SB_DEDUP_INLINE	40

typedef struct sb_dedup_slot
{
	uint64_t	hash;			/* 0 marks an empty slot */
	uint64_t	offset;			/* heap offset of the stored image */
	uint32_t	len;			/* payload length */
	uint32_t	form;			/* header size and alignment */
	unsigned char data[SB_DEDUP_INLINE];	/* the payload, if it fits */
} sb_dedup_slot;

/* Compares a stored value's payload (at a heap offset) with a payload. */
typedef bool (*sb_dedup_same_fn) (void *arg, uint64_t offset,
								  const void *payload, size_t len);

typedef struct sb_dedup
{
	sb_dedup_slot *slots;
	uint64_t	nsets;			/* a power of two; 4 slots per set */
	sb_dedup_same_fn same;
	void	   *arg;
} sb_dedup;

extern bool sb_dedup_init(sb_dedup *d, size_t budget, sb_dedup_same_fn same,
						  void *arg);
extern uint64_t sb_dedup_hash(const void *payload, size_t len, uint32_t form);
extern bool sb_dedup_find(sb_dedup *d, uint64_t hash, uint32_t form,
						  const void *payload, size_t len, uint64_t *offset);
extern void sb_dedup_insert(sb_dedup *d, uint64_t hash, uint32_t form,
							const void *payload, size_t len, uint64_t offset);
extern void sb_dedup_free(sb_dedup *d);

#endif							/* SBDEDUP_H */
