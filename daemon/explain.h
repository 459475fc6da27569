/*
 * mmapd --check-config FILE --explain REQUEST: one request judged
 * against a policy offline, by the daemon's own checks (decide.c), with
 * the words a client would get and the key behind them.
 */
#ifndef MMAPD_EXPLAIN_H
#define MMAPD_EXPLAIN_H

#include "policy.h"

#define EXPLAIN_ALLOWED	0
#define EXPLAIN_REFUSED	1
#define EXPLAIN_USAGE	2	/* a request or policy that is not right */

/*
 * Judge request ("USER map DEVICE ...", "USER read ...", "USER write
 * ...": mmapd(8)) against pol, read from path; print the answer on
 * stdout.  Returns one of the above.
 */
int explain_run(const char *path, const struct policy *pol,
    const char *request);

#endif /* MMAPD_EXPLAIN_H */
