/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vrdmactl helpers: word lookup, argument parsing (numbers, addresses,
 * network namespaces) and the plain-text/JSON output printer.
 */

#ifndef VRDMACTL_UTILS_H
#define VRDMACTL_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include "parse.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Look @arg up in a table of @n entries, @stride bytes apart, whose names
 * are at @first, &table[0].name.  An exact match wins, otherwise @arg may be
 * a prefix of exactly one name.  Returns the index, -1 if nothing matches or
 * -2 if the prefix is ambiguous.  Use it through lookup_word().
 */
int lookup_word_n(const char *arg, const char *const *first, size_t n,
		  size_t stride);
#define lookup_word(arg, table)						\
	lookup_word_n((arg), &(table)[0].name, ARRAY_SIZE(table),	\
		      sizeof((table)[0]))


/*
 * Output printer.  In plain mode each object is one line of fields
 * separated by single spaces; in JSON mode objects are collected in an array
 * that out_end() prints.  A plain-text field is printed with its printf
 * format @fmt, or as "KEY VALUE" when @fmt is NULL; JSON uses KEY.
 */
struct json_object;

struct out {
	bool json;
	bool pretty;
	struct json_object *array;	/* JSON: the objects so far */
	struct json_object *obj;	/* JSON: the object being built */
	bool started;			/* out_begin() was called */
	bool in_obj;
	bool need_sep;			/* plain: a field is on the line */
	struct json_object *outer;	/* JSON: the object out_nest_start()
					 * left, NULL outside a nest
					 */
	const char *nest_key;		/* and the nest's key there */
};

void out_init(struct out *o, bool json, bool pretty);
/* Start a listing (shows call it; actions print nothing). */
void out_begin(struct out *o);
/* Print the JSON array, if a listing was started; free everything. */
void out_end(struct out *o);
/* Free everything without printing (after an error). */
void out_discard(struct out *o);

void out_obj_start(struct out *o);
void out_obj_end(struct out *o);

/*
 * A nested object, @key, inside the current one (not nestable further).
 * Plain: its fields follow on an indented line of their own, after "KEY:".
 */
void out_nest_start(struct out *o, const char *key);
void out_nest_end(struct out *o);

void out_str(struct out *o, const char *key, const char *fmt, const char *val);
void out_u32(struct out *o, const char *key, const char *fmt, uint32_t val);
void out_u64(struct out *o, const char *key, const char *fmt, uint64_t val);
void out_s32(struct out *o, const char *key, const char *fmt, int32_t val);
/* Plain: the word @key when @val is set.  JSON: a boolean. */
void out_bool(struct out *o, const char *key, bool val);
/*
 * A bit set: plain prints the name of each set bit (names[bit], or a hex
 * value for unnamed bits), JSON an array of those names.
 */
void out_flags(struct out *o, const char *key, uint32_t val,
	       const char *const *names, unsigned int nr_names);

#endif /* VRDMACTL_UTILS_H */
