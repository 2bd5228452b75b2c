/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Structured log records, printed as one line each: either text
 *
 *   2025-01-02T03:04:05.678Z info map-add: 10.244.2.5 via 10.99.0.2 vni=100
 *
 * or a JSON object per line ({"ts":...,"level":...,"event":...,"msg":...,
 * fields...}).  A record is a json-c object: start it, add fields, end it.
 */

#ifndef VRDMA_LIB_LOG_H
#define VRDMA_LIB_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

struct log_cfg {
	enum log_level level;	/* records above it are dropped */
	bool json;
	FILE *out;		/* stderr when NULL */
	const char *host;	/* when set, a "host" field in every record */
	bool ts_epoch;		/* "ts" in seconds since the epoch (a number) */
};

extern struct log_cfg log_cfg;

/* "error", "warning", "info" or "debug" into *@level; -1 if none. */
int log_level_parse(const char *s, enum log_level *level);

/* A record of @event, or NULL when @level is not logged. */
struct json_object *log_start(enum log_level level, const char *event);
/* Print @rec (which may be NULL) and free it. */
void log_end(struct json_object *rec);
/* A record with a message only. */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fields; each does nothing when @o is NULL. */
void jadd_str(struct json_object *o, const char *key, const char *val);
void jadd_int(struct json_object *o, const char *key, int64_t val);
void jadd_bool(struct json_object *o, const char *key, bool val);
void jadd_fmt(struct json_object *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* VRDMA_LIB_LOG_H */
