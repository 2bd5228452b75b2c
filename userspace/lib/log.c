// SPDX-License-Identifier: GPL-2.0
/*
 * Structured log records (log.h).
 */

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct log_cfg log_cfg = { .level = LOG_INFO };

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_level_parse(const char *s, enum log_level *level)
{
	unsigned int i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (!strcmp(s, level_names[i])) {
			*level = i;
			return 0;
		}
	return -1;
}

struct json_object *log_start(enum log_level level, const char *event)
{
	struct json_object *r;
	struct timespec ts;
	struct tm tm;
	char buf[40];

	if (level > log_cfg.level)
		return NULL;
	r = json_object_new_object();
	if (!r)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (log_cfg.ts_epoch) {
		json_object_object_add(r, "ts", json_object_new_double(
				ts.tv_sec + ts.tv_nsec / 1e9));
	} else {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		jadd_fmt(r, "ts", "%s.%03ldZ", buf, ts.tv_nsec / 1000000);
	}
	if (log_cfg.host)
		jadd_str(r, "host", log_cfg.host);
	jadd_str(r, "level", level_names[level]);
	jadd_str(r, "event", event);
	return r;
}

/* Text: "TS LEVEL EVENT: MSG key=value ...", values with blanks quoted. */
static void print_text(FILE *out, struct json_object *rec)
{
	struct json_object *v;
	const char *s;

	fprintf(out, "%s %s %s:",
		json_object_get_string(json_object_object_get(rec, "ts")),
		json_object_get_string(json_object_object_get(rec, "level")),
		json_object_get_string(json_object_object_get(rec, "event")));
	if (json_object_object_get_ex(rec, "msg", &v))
		fprintf(out, " %s", json_object_get_string(v));
	json_object_object_foreach(rec, key, val) {
		if (!strcmp(key, "ts") || !strcmp(key, "level") ||
		    !strcmp(key, "event") || !strcmp(key, "msg"))
			continue;
		s = json_object_get_string(val);
		if (!s)
			s = "null";
		if (json_object_is_type(val, json_type_array)) {
			size_t i, n = json_object_array_length(val);

			fprintf(out, " %s=", key);
			for (i = 0; i < n; i++)
				fprintf(out, "%s%s", i ? "," : "",
					json_object_get_string(
					json_object_array_get_idx(val, i)));
			continue;
		}
		if (json_object_is_type(val, json_type_string) &&
		    (!*s || strpbrk(s, " \t\"=")))
			fprintf(out, " %s=%s", key,
				json_object_to_json_string_ext(val,
					JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			fprintf(out, " %s=%s", key, s);
	}
	fputc('\n', out);
}

void log_end(struct json_object *rec)
{
	FILE *out = log_cfg.out ? log_cfg.out : stderr;

	if (!rec)
		return;
	if (log_cfg.json)
		fprintf(out, "%s\n", json_object_to_json_string_ext(rec,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(out, rec);
	fflush(out);
	json_object_put(rec);
}

void log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
	struct json_object *r = log_start(level, event);
	char buf[1024];
	va_list ap;

	if (!r)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jadd_str(r, "msg", buf);
	log_end(r);
}

void jadd_str(struct json_object *o, const char *key, const char *val)
{
	if (o)
		json_object_object_add(o, key,
				       json_object_new_string(val ? val : ""));
}

void jadd_int(struct json_object *o, const char *key, int64_t val)
{
	if (o)
		json_object_object_add(o, key, json_object_new_int64(val));
}

void jadd_bool(struct json_object *o, const char *key, bool val)
{
	if (o)
		json_object_object_add(o, key, json_object_new_boolean(val));
}

void jadd_fmt(struct json_object *o, const char *key, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!o)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jadd_str(o, key, buf);
}
