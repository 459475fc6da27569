/*
 * mmapctl: numbers as people and programs read them.  Sizes and times
 * in the text output for people (64 KiB, 1 h 2 min); in JSON, 64-bit
 * numbers that a double would round (offsets, addresses, register
 * values) as "0x..." strings; and the daemon's counters of status.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mmapctl.h"

const char *
size_text(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = {
		"KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	uint64_t scale = 1024;
	size_t u = 0;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " byte%s", v, v == 1 ? "" : "s");
		return buf;
	}
	while (u + 1 < sizeof(units) / sizeof(units[0]) && v / scale >= 1024) {
		scale *= 1024;
		u++;
	}
	if (v % scale == 0)
		snprintf(buf, len, "%" PRIu64 " %s", v / scale, units[u]);
	else
		snprintf(buf, len, "%.1f %s", (double)v / (double)scale,
		    units[u]);
	return buf;
}

/* The two largest units that say it; the smaller left out when 0. */
const char *
duration_text(uint64_t sec, char *buf, size_t len)
{
	uint64_t big, small;
	const char *bu, *su;

	if (sec < 60) {
		snprintf(buf, len, "%" PRIu64 " s", sec);
		return buf;
	}
	if (sec < 3600) {
		big = sec / 60, small = sec % 60, bu = "min", su = "s";
	} else if (sec < 86400) {
		big = sec / 3600, small = sec % 3600 / 60, bu = "h", su = "min";
	} else {
		big = sec / 86400, small = sec % 86400 / 3600, bu = "d";
		su = "h";
	}
	if (small)
		snprintf(buf, len, "%" PRIu64 " %s %" PRIu64 " %s", big, bu,
		    small, su);
	else
		snprintf(buf, len, "%" PRIu64 " %s", big, bu);
	return buf;
}

void
json_hex(uint64_t v)
{
	printf("\"0x%" PRIx64 "\"", v);
}

void
value_print(uint64_t value, unsigned int width)
{
	printf("0x%0*" PRIx64, (int)(width / 4), value);
}

void
json_value(uint64_t v, unsigned int width)
{
	putchar('"');
	value_print(v, width);
	putchar('"');
}

void
counters_print(const struct mmapclient_counters *k)
{
	char buf[32];
	size_t i;
	uint64_t all = 0;

	printf("peak clients: %" PRIu32 "\n", k->peak_clients);
	printf("grants: %" PRIu64 "\n", k->grants);
	printf("releases: %" PRIu64 "\n", k->releases);
	printf("revocations: %" PRIu64 "\n", k->revocations);
	for (i = 0; i < k->n_denials; i++)
		all += k->denials[i].count;
	printf("denials: %" PRIu64, all);
	for (i = 0; i < k->n_denials; i++)
		printf("%s%s %" PRIu64, i ? ", " : " (",
		    errno_name(k->denials[i].error), k->denials[i].count);
	printf("%s\n", k->n_denials ? ")" : "");
	printf("zero memory held: %s\n", size_text(k->zero_bytes_held, buf,
	    sizeof(buf)));
}

void
counters_json(const struct mmapclient_counters *k)
{
	size_t i;

	if (k == NULL) {
		printf(",\"counters\":null");
		return;
	}
	printf(",\"counters\":{\"grants\":%" PRIu64 ",\"releases\":%" PRIu64
	    ",\"revocations\":%" PRIu64 ",\"denials\":[", k->grants,
	    k->releases, k->revocations);
	for (i = 0; i < k->n_denials; i++)
		printf("%s{\"errno\":\"%s\",\"error\":%d,\"count\":%" PRIu64 "}",
		    i ? "," : "", errno_name(k->denials[i].error),
		    k->denials[i].error, k->denials[i].count);
	printf("],\"zero_bytes_held\":%" PRIu64 ",\"peak_clients\":%" PRIu32
	    "}", k->zero_bytes_held, k->peak_clients);
}
