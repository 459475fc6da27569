/*
 * mmapctl watch: one register read by the daemon every interval, its
 * value printed (or, with --changes, the first and then each change),
 * until --count values were printed or SIGINT or SIGTERM.  Reads keep
 * the connection from going idle; should the daemon close it all the
 * same (an interval over its idle_seconds), watch connects again once.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "mmapctl.h"

#define INTERVAL_MIN_MS		10
#define INTERVAL_MAX_MS		(86400ull * 1000)
#define INTERVAL_DEFAULT_MS	1000

enum {
	OPT_INTERVAL = OPT_FIRST_CMD,
	OPT_COUNT,
	OPT_CHANGES,
};

static const struct option watch_opts[] = {
	COMMON_OPTS,
	{ "width", required_argument, NULL, 'w' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "changes", no_argument, NULL, OPT_CHANGES },
	{ NULL, 0, NULL, 0 },
};

/* Seconds with up to three decimals ("0.5", "2", "0.125") into ms. */
static int
interval_parse(const char *s, uint64_t *ms)
{
	uint64_t whole = 0, frac = 0;
	int digits = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		whole = whole * 10 + (uint64_t)(*s - '0');
		if (whole > INTERVAL_MAX_MS / 1000)
			return -EINVAL;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			if (++digits > 3)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*s - '0');
		}
		if (digits == 0)
			return -EINVAL;
		while (digits++ < 3)
			frac *= 10;
	}
	if (*s != '\0')
		return -EINVAL;
	*ms = whole * 1000 + frac;
	return *ms >= INTERVAL_MIN_MS && *ms <= INTERVAL_MAX_MS ? 0 : -EINVAL;
}

/* watch DEVICE OFFSET [WIDTH] [--interval S] [--count N] [--changes] */
void
parse_watch(int argc, char **argv, struct watch_opts *o)
{
	uint64_t v;
	int opt, n;

	*o = (struct watch_opts){ .width = 32,
	    .interval_ms = INTERVAL_DEFAULT_MS };
	while ((opt = getopt_long(argc, argv, COMMON_SHORT "w:", watch_opts,
	    NULL)) != -1) {
		if (common_opt(opt, optarg))
			continue;
		switch (opt) {
		case 'w':
			o->width = width_arg("--width", optarg);
			break;
		case OPT_INTERVAL:
			if (interval_parse(optarg, &o->interval_ms) < 0)
				usage_fail("--interval", "'%s' is not an "
				    "interval: seconds, 0.01 to 86400, at "
				    "most 3 decimals", optarg);
			break;
		case OPT_COUNT:
			if (number_parse(optarg, 0, UINT64_MAX, &o->count) <
			    0 || o->count == 0)
				usage_fail("--count", "'%s' is not a count of "
				    "values (1 or more)", optarg);
			break;
		case OPT_CHANGES:
			o->changes = 1;
			break;
		default:
			bad_option(opt, argv);
		}
	}
	argv += optind;
	n = argc - optind;
	if (n < 2)
		usage_fail("watch", "DEVICE OFFSET are required");
	if (n > 3)
		usage_fail("watch", "unexpected argument '%s'", argv[3]);
	if (argv[0][0] == '\0')
		usage_fail("watch", "DEVICE is empty");
	if (number_parse(argv[0], 0, UINT64_MAX, &v) == 0)
		usage_fail("watch", "'%s' is an address, not a device: name "
		    "the device or region first (a physical address: watch "
		    "mem %s)", argv[0], argv[0]);
	o->device = argv[0];
	o->offset = offset_arg("watch", argv[1]);
	if (n == 3)
		o->width = width_arg("watch", argv[2]);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The errors of a connection the daemon closed: worth one more connect. */
static int
conn_lost(int err)
{
	return err == -ECONNRESET || err == -EPIPE || err == -ETIMEDOUT ||
	    err == -ENOTCONN;
}

static void
watch_print(const struct watch_opts *o, uint64_t t, uint64_t v,
    const uint64_t *prev)
{
	if (json) {
		printf("{\"command\":\"watch\",\"device\":");
		json_str(o->device);
		printf(",\"offset\":");
		json_hex(o->offset);
		printf(",\"width\":%u,\"time_ms\":%" PRIu64 ",\"value\":",
		    o->width, t);
		json_value(v, o->width);
		printf(",\"previous\":");
		if (prev != NULL)
			json_value(*prev, o->width);
		else
			printf("null");
		printf("}\n");
	} else {
		printf("%" PRIu64 ".%03" PRIu64 " s: ", t / 1000, t % 1000);
		value_print(v, o->width);
		if (prev != NULL && o->changes) {
			printf(" (was ");
			value_print(*prev, o->width);
			putchar(')');
		}
		putchar('\n');
	}
	fflush(stdout);
}

/*
 * Wait until the next tick (start + k * interval, so the reads do not
 * drift) or a signal: 1 when a signal came, 0 at the tick, else the
 * exit status after saying why.
 */
static int
watch_wait(int sfd, uint64_t tick)
{
	struct signalfd_siginfo si;
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };
	uint64_t now;
	int n;

	for (;;) {
		now = now_ms();
		if (now >= tick)
			return 0;
		n = poll(&pfd, 1, (int)(tick - now > 60000 ? 60000 :
		    tick - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_line(-errno, "watch", "poll");
			return -EXIT_REFUSED;
		}
		if (n > 0) {
			if (read(sfd, &si, sizeof(si)) < 0 && errno == EINTR)
				continue;
			return 1;
		}
	}
}

int
cmd_watch(struct mmapclient **cp, const struct watch_opts *o)
{
	uint64_t start, tick, prev = 0, v, printed = 0, k = 0;
	int have_prev = 0, retried = 0, err, sfd, w;
	char what[300];
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 ||
	    (sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		fail_line(-errno, "watch", "cannot take SIGINT and SIGTERM");
		return EXIT_REFUSED;
	}
	snprintf(what, sizeof(what), "watch %s 0x%" PRIx64, o->device,
	    o->offset);
	start = now_ms();
	for (;;) {
		err = mmapclient_read(*cp, o->device, o->offset, o->width, &v);
		if (err && conn_lost(err) && !retried) {
			/* Once: a second loss in a row is the daemon's end. */
			mmapclient_close(*cp);
			*cp = ctl_connect();
			retried = 1;
			continue;
		}
		if (err) {
			fail_line(err, what, "%s", mmapclient_error(*cp));
			close(sfd);
			return EXIT_REFUSED;
		}
		retried = 0;
		if (!o->changes || !have_prev || v != prev) {
			watch_print(o, now_ms() - start, v,
			    have_prev ? &prev : NULL);
			printed++;
		}
		prev = v;
		have_prev = 1;
		if (o->count && printed == o->count)
			break;
		/* The next tick to come: a slow read skips ticks, not time. */
		k++;
		if ((now_ms() - start) / o->interval_ms >= k)
			k = (now_ms() - start) / o->interval_ms + 1;
		tick = start + k * o->interval_ms;
		w = watch_wait(sfd, tick);
		if (w < 0) {
			close(sfd);
			return -w;
		}
		if (w == 1)
			break;
	}
	close(sfd);
	return 0;
}
