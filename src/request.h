/* The owned mirror request: what one `mirror-request` message becomes once
 * it leaves the SPOP connection. One allocation holds the struct, the header
 * array and every byte (method, uri, version, header names and values, body),
 * so ownership is one pointer and freeing is one call. */
#ifndef SPOA_MIRROR_REQUEST_H
#define SPOA_MIRROR_REQUEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headers.h"
#include "slice.h"

struct target_set;
struct queue_budget;

/* Views into the NOTIFY frame, copied by request_new(). */
struct request_parts {
	struct slice method;
	struct slice uri;       /* path and query, or absolute-form */
	struct slice version;   /* "1.1", "2.0"; may be empty */
	struct slice body;
	struct slice client;    /* client address as text; may be empty */
	struct slice unique_id; /* may be empty */
	const struct header_list *headers;
	bool truncated;         /* body shorter than the request declared */
};

struct mirror_request {
	struct mirror_request *next;  /* link in a request_queue */
	atomic_uint pending;          /* targets not finished yet */
	struct target_set *set;       /* the targets it was admitted to (ref held) */
	uint32_t target_mask;         /* bit i: send to set->targets[i] */
	uint32_t compare_mask;        /* bit i: capture its answer for a verdict */
	struct queue_budget *budget;  /* charged `charge` bytes, released on free */
	size_t charge;
	uint64_t received_ns;         /* CLOCK_MONOTONIC, for queue-time metrics */

	struct slice method;
	struct slice uri;
	struct slice version;
	struct slice body;
	struct slice client;
	struct slice unique_id;
	bool truncated;
	size_t n_headers;
	struct http_header headers[]; /* views into this same allocation */
};

/* Bytes request_new() will allocate for these parts. */
size_t request_alloc_size(const struct request_parts *p);

/* Copies the parts into one new allocation. NULL when out of memory.
 * mask/set/budget fields are zero: the caller fills them. */
struct mirror_request *request_new(const struct request_parts *p);

/* One target finished with the request (sent, failed or dropped). The last
 * one frees it: releases its budget charge and its target_set reference. */
void request_target_done(struct mirror_request *r);

/* Frees now, whatever `pending` says (the request never left the caller). */
void request_free(struct mirror_request *r);

#endif
