// SPDX-License-Identifier: GPL-2.0
/*
 * vrdmactl helpers: word lookup, argument parsing and output printer.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "utils.h"

int lookup_word_n(const char *arg, const char *const *first, size_t n,
		  size_t stride)
{
	size_t len = strlen(arg);
	int found = -1;
	size_t i;

	if (!len)
		return -1;
	for (i = 0; i < n; i++) {
		const char *name = *(const char *const *)
			((const char *)first + i * stride);

		if (!name)
			continue;
		if (!strcmp(arg, name))
			return i;
		if (!strncmp(arg, name, len))
			found = found == -1 ? (int)i : -2;
	}
	return found;
}

/* Output printer. */

static struct json_object *jcheck(struct json_object *j)
{
	if (!j) {
		fputs("vrdmactl: out of memory\n", stderr);
		exit(EXIT_FAILURE);
	}
	return j;
}

static void jadd(struct out *o, const char *key, struct json_object *val)
{
	if (json_object_object_add(o->obj, key, jcheck(val)))
		jcheck(NULL);
}

__attribute__((format(printf, 2, 3)))
static void plain(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->need_sep)
		putchar(' ');
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	o->need_sep = true;
}

void out_init(struct out *o, bool json, bool pretty)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	o->pretty = pretty;
}

void out_begin(struct out *o)
{
	if (o->started)
		return;
	o->started = true;
	if (o->json)
		o->array = jcheck(json_object_new_array());
}

void out_end(struct out *o)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	if (o->json && o->array) {
		if (o->pretty)
			flags |= JSON_C_TO_STRING_PRETTY |
				 JSON_C_TO_STRING_SPACED;
		else
			flags |= JSON_C_TO_STRING_PLAIN;
		puts(json_object_to_json_string_ext(o->array, flags));
	}
	out_discard(o);
}

void out_discard(struct out *o)
{
	if (o->outer) {		/* an error inside a nest */
		json_object_put(o->obj);
		o->obj = o->outer;
		o->outer = NULL;
	}
	json_object_put(o->obj);
	json_object_put(o->array);
	o->obj = NULL;
	o->array = NULL;
	o->started = false;
	o->in_obj = false;
}

void out_obj_start(struct out *o)
{
	out_begin(o);
	if (o->json)
		o->obj = jcheck(json_object_new_object());
	o->in_obj = true;
	o->need_sep = false;
}

void out_obj_end(struct out *o)
{
	if (!o->in_obj)
		return;
	o->in_obj = false;
	if (o->json) {
		if (json_object_array_add(o->array, o->obj))
			jcheck(NULL);
		o->obj = NULL;
	} else {
		putchar('\n');
	}
}

void out_nest_start(struct out *o, const char *key)
{
	if (o->json) {
		o->outer = o->obj;
		o->nest_key = key;
		o->obj = jcheck(json_object_new_object());
	} else {
		printf("\n    %s:", key);
		o->need_sep = true;
	}
}

void out_nest_end(struct out *o)
{
	struct json_object *nest = o->obj;

	if (!o->json || !o->outer)
		return;
	o->obj = o->outer;
	o->outer = NULL;
	jadd(o, o->nest_key, nest);
}

void out_str(struct out *o, const char *key, const char *fmt, const char *val)
{
	if (o->json)
		jadd(o, key, json_object_new_string(val));
	else if (fmt)
		plain(o, fmt, val);
	else
		plain(o, "%s %s", key, val);
}

void out_u32(struct out *o, const char *key, const char *fmt, uint32_t val)
{
	if (o->json)
		jadd(o, key, json_object_new_int64(val));
	else if (fmt)
		plain(o, fmt, val);
	else
		plain(o, "%s %u", key, val);
}

void out_u64(struct out *o, const char *key, const char *fmt, uint64_t val)
{
	if (o->json)
		jadd(o, key, json_object_new_uint64(val));
	else if (fmt)
		plain(o, fmt, val);
	else
		plain(o, "%s %" PRIu64, key, val);
}

void out_s32(struct out *o, const char *key, const char *fmt, int32_t val)
{
	if (o->json)
		jadd(o, key, json_object_new_int64(val));
	else if (fmt)
		plain(o, fmt, val);
	else
		plain(o, "%s %d", key, val);
}

void out_bool(struct out *o, const char *key, bool val)
{
	if (o->json)
		jadd(o, key, json_object_new_boolean(val));
	else if (val)
		plain(o, "%s", key);
}

void out_flags(struct out *o, const char *key, uint32_t val,
	       const char *const *names, unsigned int nr_names)
{
	struct json_object *array = NULL;
	char hex[sizeof("0x80000000")];
	unsigned int bit;

	if (o->json)
		array = jcheck(json_object_new_array());
	for (bit = 0; bit < 32; bit++) {
		const char *name;

		if (!(val & (1U << bit)))
			continue;
		name = bit < nr_names ? names[bit] : NULL;
		if (!name) {
			snprintf(hex, sizeof(hex), "%#x", 1U << bit);
			name = hex;
		}
		if (!o->json)
			plain(o, "%s", name);
		else if (json_object_array_add(array,
				jcheck(json_object_new_string(name))))
			jcheck(NULL);
	}
	if (o->json)
		jadd(o, key, array);
}
