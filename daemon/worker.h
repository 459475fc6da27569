/*
 * The worker's side of the monitor's ctl socket (worker.c): the policy
 * and devices a reload hands over, and what the worker tells back.
 */
#ifndef MMAPD_WORKER_H
#define MMAPD_WORKER_H

#include <stddef.h>

struct mmapd;
struct mem_device;
struct pci_region;
struct policy;

/* Take the ctl socket (made non-blocking here).  0 or -errno. */
int worker_init(int ctl);

/*
 * The ctl socket is readable: take what the monitor sent.  0; -errno
 * when the monitor is gone or broken: the worker then stops.
 */
int worker_ctl_event(struct mmapd *d);

/* SIGHUP reached the worker: ask the monitor to reload. */
void worker_reload_ask(struct mmapd *d);

/* notify.h's relay: an sd_notify message, for the monitor to pass on. */
int worker_notify(const char *msg);

/*
 * The one place a new policy takes effect: pol and the devices opened
 * for it replace what is in force (all taken; mem NULL: none).  Devices
 * no longer named are closed here; a lease keeps what its holder
 * mapped, which never was these fds.
 */
void worker_policy_apply(struct mmapd *d, struct policy *pol,
    struct mem_device *mem, const char *mem_path, struct pci_region *pcis,
    size_t n_pcis);

/*
 * Raw /dev/mem fds go out only while the kernel keeps System RAM out of
 * them: asked each time mem is opened, with a RAM page it must refuse.
 */
void worker_mem_strict(struct mmapd *d, const char *path);

#endif /* MMAPD_WORKER_H */
