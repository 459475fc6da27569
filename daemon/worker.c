/*
 * The worker's side of a reload.  The monitor (monitor.c) read the
 * policy file and opened what it names; here come the file's text in
 * pieces, one message per device with its fds, and a commit.  The
 * worker parses the same text with the same parser, so the policy it
 * serves is the one the devices were opened for, and swaps both in
 * (worker_policy_apply).  A reload that does not add up leaves the
 * policy in force and says why to the monitor.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "privsep-msg.h"
#include "revoke.h"
#include "worker.h"

/* Regions one reload may bring: a policy has no more entries than this. */
#define WORKER_MAX_PCIS	1024

/* What one reload has brought so far. */
static struct {
	int ctl;
	uint32_t gen;
	char *text;
	size_t total, got;
	int have_mem;
	struct mem_device mem;
	char mem_path[PMSG_PATH_MAX];
	struct pci_region *pcis;
	size_t n_pcis, cap_pcis;
	int bad;		/* a message did not fit: refuse the commit */
} w = { .ctl = -1 };

/* Test seam: probe a stand-in as if it were /dev/mem (mmapd(8)). */
#define MEM_TEST_SEAM	"MMAPD_TEST_DEVMEM_PROBE"

void
worker_mem_strict(struct mmapd *d, const char *path)
{
	const char *seam = getenv(MEM_TEST_SEAM);
	uint64_t page;
	int rc;

	d->mem_raw_ok = 0;
	if (seam != NULL && strcmp(seam, "1") == 0) {
		/*
		 * The tests' stand-in for a kernel without STRICT_DEVMEM:
		 * a file, on which the RAM page maps (or, a FIFO, on which
		 * the answer cannot be told); the fail-safe must hold.
		 */
		log_warn("%s=1 (a test seam): the STRICT_DEVMEM probe runs on "
		    "%s although it is not /dev/mem", MEM_TEST_SEAM, path);
		rc = mem_ram_probe(&d->mem, &page);
	} else {
		rc = mem_strict_check(&d->mem, &page);
	}
	switch (rc) {
	case 1:
		d->mem_raw_ok = 1;
		log_info("mem: the kernel refuses System RAM at %#llx through "
		    "/dev/mem (STRICT_DEVMEM): raw fds may go out where the "
		    "policy says raw_fd_users", (unsigned long long)page);
		break;
	case -ENOTTY:
		/* A stand-in file: no physical memory behind it to guard. */
		d->mem_raw_ok = 1;
		log_warn("mem: %s is not /dev/mem (char 1:1): no STRICT_DEVMEM "
		    "check; its fd goes out where raw_fd_users says", path);
		break;
	case 0:
		log_err("mem: the kernel maps System RAM at %#llx through "
		    "/dev/mem: no STRICT_DEVMEM, so raw /dev/mem fds are never "
		    "handed out (Read and Write still work)",
		    (unsigned long long)page);
		break;
	default:
		log_err("mem: cannot tell whether the kernel enforces "
		    "STRICT_DEVMEM (%s): raw /dev/mem fds are never handed out",
		    strerror(-rc));
		break;
	}
}

void
worker_policy_apply(struct mmapd *d, struct policy *pol,
    struct mem_device *mem, const char *mem_path, struct pci_region *pcis,
    size_t n_pcis)
{
	/* What no one maps through any more: every fd mmapd held for it. */
	pcis_close(d->pcis, d->n_pcis);
	d->pcis = pcis;
	d->n_pcis = n_pcis;
	if (d->have_mem)
		mem_device_close(&d->mem);
	d->have_mem = mem != NULL;
	d->mem_raw_ok = 0;
	if (mem != NULL) {
		d->mem = *mem;
		worker_mem_strict(d, mem_path);
	}
	policy_free(d->policy);
	d->policy = pol;
	shm_reload(d);
	/* Leases the new policy no longer allows are revoked from here. */
	revoke_policy_changed(d);
	log_info("SIGHUP: policy reloaded, %zu entries, %zu pci regions%s",
	    pol->n_entries, n_pcis, d->have_mem ? ", mem" : "");
}

/* ---------------------------------------------------------------------
 * The messages
 * --------------------------------------------------------------------- */

static void
stage_clear(void)
{
	free(w.text);
	w.text = NULL;
	w.total = w.got = 0;
	if (w.have_mem)
		mem_device_close(&w.mem);
	w.have_mem = 0;
	pcis_close(w.pcis, w.n_pcis);
	w.pcis = NULL;
	w.n_pcis = w.cap_pcis = 0;
	w.bad = 0;
}

/* A message of another reload than the one staged starts a new one. */
static void
stage_gen(uint32_t gen)
{
	if (gen != w.gen) {
		stage_clear();
		w.gen = gen;
	}
}

/* A device's fds by its mask (privsep-msg.h); every fd is taken. */
static void
dev_take(struct map_device *dev, int *iomem_fd, uint32_t mask,
    const int *fds)
{
	unsigned int k = 0;
	int i;

	for (i = 0; i < MAP_CACHE_NR; i++)
		dev->fd[i] = dev->fd_ro[i] = -1;
	for (i = 0; i < MAP_CACHE_NR; i++)
		if (mask & (1u << i))
			dev->fd[i] = fds[k++];
	for (i = 0; i < MAP_CACHE_NR; i++)
		if (mask & PMSG_FD_RO(i))
			dev->fd_ro[i] = fds[k++];
	*iomem_fd = mask & PMSG_FD_IOMEM ? fds[k++] : -1;
}

static void
take_policy(const struct pmsg_policy *p)
{
	stage_gen(p->gen);
	if (p->total > POLICY_FILE_MAX || p->len > PMSG_TEXT_CHUNK ||
	    p->offset != w.got || (w.text != NULL && p->total != w.total) ||
	    p->len > p->total - p->offset) {
		w.bad = 1;
		return;
	}
	if (w.text == NULL) {
		w.text = malloc(p->total + 1);
		if (w.text == NULL) {
			w.bad = 1;
			return;
		}
		w.total = p->total;
	}
	memcpy(w.text + w.got, p->data, p->len);
	w.got += p->len;
}

static void
take_mem(const struct pmsg_mem *m, const int *fds)
{
	stage_gen(m->gen);
	if (w.have_mem) {
		mem_device_close(&w.mem);
		w.bad = 1;
	}
	memset(&w.mem, 0, sizeof(w.mem));
	w.mem.dev.name = "mem";
	w.mem.dev.driver = &mem_driver;
	w.mem.dev.access = m->access;
	dev_take(&w.mem.dev, &w.mem.iomem_fd, m->fdmask, fds);
	w.mem.cache = m->cache < MAP_CACHE_NR ? (enum map_cache)m->cache :
	    MAP_CACHE_UNCACHED;
	w.mem.addr_bits = m->addr_bits;
	w.mem.phys_bits = m->phys_bits;
	memcpy(w.mem_path, m->path, sizeof(w.mem_path));
	w.mem_path[sizeof(w.mem_path) - 1] = '\0';
	w.have_mem = 1;
}

static void
take_pci(const struct pmsg_pci *m, const int *fds)
{
	struct pci_region *r, *v;
	size_t cap;

	stage_gen(m->gen);
	if (w.n_pcis == w.cap_pcis) {
		cap = w.cap_pcis ? 2 * w.cap_pcis : 8;
		v = cap <= WORKER_MAX_PCIS ?
		    reallocarray(w.pcis, cap, sizeof(*v)) : NULL;
		if (v == NULL) {
			for (unsigned int i = 0; i < pmsg_mask_count(m->fdmask);
			    i++)
				close(fds[i]);
			w.bad = 1;
			return;
		}
		w.pcis = v;
		w.cap_pcis = cap;
	}
	r = &w.pcis[w.n_pcis++];
	memset(r, 0, sizeof(*r));
	memcpy(r->name, m->name, sizeof(r->name) - 1);
	r->name[sizeof(r->name) - 1] = '\0';
	r->pci.dev.name = "pci";
	r->pci.dev.driver = &pci_driver;
	r->pci.dev.access = m->access;
	dev_take(&r->pci.dev, &r->pci.iomem_fd, m->fdmask, fds);
	memcpy(r->pci.address, m->address, sizeof(r->pci.address) - 1);
	r->pci.bar = m->bar;
	r->pci.start = m->start;
	r->pci.len = m->len;
	r->pci.span = m->span;
	r->pci.prefetch = m->prefetch != 0;
}

/* The commit: parse, check, apply.  0 or the -errno the monitor hears. */
static int
take_commit(struct mmapd *d, const struct pmsg_commit *c,
    uint32_t *entries)
{
	struct policy_errors errs = { 0 };
	struct policy *pol = NULL;
	int err;

	stage_gen(c->gen);
	if (w.bad || (uint32_t)w.have_mem != c->have_mem ||
	    w.n_pcis != c->n_pci || (!c->builtin && w.got != w.total)) {
		log_err("SIGHUP: the monitor's reload did not add up: "
		    "keeping the policy in force");
		return -EPROTO;
	}
	if (c->builtin)
		err = policy_default(&pol);
	else
		err = policy_parse(w.text != NULL ? w.text : "", w.got, &pol,
		    &errs);
	if (err) {
		/* The monitor parsed it: only a lookup can differ now. */
		policy_log_errors("the reloaded policy", &errs);
		policy_errors_free(&errs);
		log_err("SIGHUP: the new policy does not parse here (%s): "
		    "keeping the policy in force", strerror(-err));
		return err;
	}
	policy_errors_free(&errs);
	*entries = (uint32_t)pol->n_entries;
	worker_policy_apply(d, pol, w.have_mem ? &w.mem : NULL, w.mem_path,
	    w.pcis, w.n_pcis);
	/* Taken: not staged any more. */
	w.have_mem = 0;
	w.pcis = NULL;
	w.n_pcis = w.cap_pcis = 0;
	return 0;
}

/*
 * A message to the monitor.  The lines held so far go first
 * (log_hold()): the monitor writes its own at once, and the log must
 * keep what the worker did before what the monitor did about it.
 */
static int
to_monitor(struct pmsg *m)
{
	log_flush();
	return pmsg_send(w.ctl, m, NULL, 0);
}

int
worker_ctl_event(struct mmapd *d)
{
	struct pmsg msg, reply;
	int fds[PMSG_FDS_MAX], err;
	uint32_t entries = 0;

	for (;;) {
		err = pmsg_recv(w.ctl, MSG_DONTWAIT, (1u << PMSG_POLICY) |
		    (1u << PMSG_MEM) | (1u << PMSG_PCI) | (1u << PMSG_COMMIT),
		    &msg, fds);
		if (err == -EAGAIN)
			return 0;
		if (err) {
			if (err == -ECONNRESET)
				log_err("the monitor is gone: stopping");
			else
				log_err("the monitor's socket: %s: stopping",
				    strerror(-err));
			stage_clear();
			return err;
		}
		switch (msg.type) {
		case PMSG_POLICY:
			take_policy(&msg.u.policy);
			break;
		case PMSG_MEM:
			take_mem(&msg.u.mem, fds);
			break;
		case PMSG_PCI:
			take_pci(&msg.u.pci, fds);
			break;
		case PMSG_COMMIT:
			err = take_commit(d, &msg.u.commit, &entries);
			stage_clear();
			memset(&reply, 0, sizeof(reply));
			reply.type = PMSG_APPLIED;
			reply.u.applied.gen = msg.u.commit.gen;
			reply.u.applied.err = err;
			reply.u.applied.entries = entries;
			reply.u.applied.clients = d->n_clients;
			reply.u.applied.leases = d->n_leases;
			err = to_monitor(&reply);
			if (err && err != -EAGAIN)
				return err;
			break;
		}
	}
}

int
worker_init(int ctl)
{
	int fl = fcntl(ctl, F_GETFL);

	if (fl < 0 || fcntl(ctl, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	w.ctl = ctl;
	return 0;
}

void
worker_reload_ask(struct mmapd *d)
{
	struct pmsg msg;
	int err;

	(void)d;
	memset(&msg, 0, sizeof(msg));
	msg.type = PMSG_RELOAD;
	err = to_monitor(&msg);
	if (err)
		log_err("SIGHUP: cannot ask the monitor to reload: %s",
		    strerror(-err));
	else
		log_info("SIGHUP: the monitor reads the policy and opens "
		    "its devices");
}

int
worker_notify(const char *text)
{
	struct pmsg msg;

	memset(&msg, 0, sizeof(msg));
	msg.type = PMSG_NOTIFY;
	if (strlen(text) >= sizeof(msg.u.notify.text))
		return -EMSGSIZE;
	strcpy(msg.u.notify.text, text);
	return to_monitor(&msg);
}
