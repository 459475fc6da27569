/*
 * mmapctl: what devmem, devmem2 and pcimem users type.  mmapctl names a
 * device or region where those tools take an address or a sysfs file;
 * typed their way, the command gets a usage error that says the mmapctl
 * command doing the same.
 *
 *	devmem ADDRESS [WIDTH [VALUE]]		busybox, toybox
 *	devmem2 ADDRESS [TYPE [DATA]]
 *	pcimem SYSFILE OFFSET [TYPE*COUNT [DATA]]
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mmapctl.h"

/* " 32" when s is a width mmapctl takes, else "" (the default then). */
static const char *
width_word(int n, char **args, int at, char *buf, size_t len)
{
	unsigned int bits;

	buf[0] = '\0';
	if (n > at && width_parse(args[at], &bits) == 0)
		snprintf(buf, len, " %u", bits);
	return buf;
}

/* pcimem: the file names a BAR, which the policy names as a region. */
static void
pcimem_hint(int n, char **args)
{
	char w[8], cmd[160];
	const char *off = n > 1 ? args[1] : "OFFSET";

	if (n > 2 && strchr(args[2], '*') != NULL)
		snprintf(cmd, sizeof(cmd), "mmapctl dump REGION %.24s %.24s",
		    off, args[2]);
	else if (n > 3)
		snprintf(cmd, sizeof(cmd), "mmapctl write REGION %.24s %.24s%s",
		    off, args[3], width_word(n, args, 2, w, sizeof(w)));
	else
		snprintf(cmd, sizeof(cmd), "mmapctl read REGION %.24s%s", off,
		    width_word(n, args, 2, w, sizeof(w)));
	usage_fail(args[0], "not a command; a BAR is named by the region "
	    "the policy gives it (mmapctl offers lists them): %s", cmd);
}

void
devmem_hint(int n, char **args)
{
	const char *a = args[0];
	char w[8], cmd[160];
	uint64_t v;

	if (strncmp(a, "/sys/", 5) == 0 && strstr(a, "/resource") != NULL) {
		pcimem_hint(n, args);
		return;
	}
	if (number_parse(a, 0, UINT64_MAX, &v) < 0)
		return;
	if (n > 2)
		snprintf(cmd, sizeof(cmd), "mmapctl write mem %.24s %.24s%s",
		    a, args[2], width_word(n, args, 1, w, sizeof(w)));
	else
		snprintf(cmd, sizeof(cmd), "mmapctl read mem %.24s%s", a,
		    width_word(n, args, 1, w, sizeof(w)));
	usage_fail(a, "not a command; devmem's ADDRESS [WIDTH [VALUE]] is, "
	    "for mmapctl: %s (or a region of the policy in place of mem, "
	    "its offset in place of the address)", cmd);
}
