/*
 * feedback: what kpipe hands back to the mailing list, for a CI step to
 * post or send: patchwork check records (checks.json) and a reply mail
 * (reply.eml).  kpipe itself never posts and never sends mail.
 *
 * Pure functions: they fill buffers from the series (the mails it came
 * as) and the run's cells, and every mail-borne string they copy is
 * untrusted (a header value never carries a line break into a header).
 */
#ifndef KPIPE_FEEDBACK_H
#define KPIPE_FEEDBACK_H

#include <stddef.h>

#include "buf.h"
#include "results.h"
#include "series.h"

/* patchwork's check states */
enum feedback_state { FEEDBACK_SUCCESS, FEEDBACK_WARNING, FEEDBACK_FAIL };

const char *feedback_state_name(enum feedback_state s);

/*
 * The check of patch 'index' (from 1) of the revision of cells[i] (one
 * arch), and a one-line description into 'desc':
 *   - a pass: success;
 *   - fails only as the base does: warning;
 *   - a regression: fail, unless --bisect found a later first bad patch
 *     (the patches before it: success, "good up to here");
 *   - the revision did not apply: fail for the patch that did not,
 *     warning (not tested) for the others;
 *   - --each-patch: a patch that broke the build fails, one that added
 *     warnings is at least a warning;
 *   - no verdict (kpipe or the machine failed): warning, saying so.
 */
enum feedback_state feedback_patch_state(struct buf *desc, const struct cell *cells, size_t n, size_t i,
					 unsigned index);

/*
 * checks.json: {"checks": [...]} with one record per patch of every
 * revision and arch, in patchwork's field names (state, target_url,
 * context "kpipe-ARCH", description) plus what finds the patch (msgid
 * with its <>, revision, N/M, subject).  'url' is where the run
 * directory is served ("https://ci.example.org/runs/20261202-..."); the
 * target_url points at its report.html.  Returns how many records.
 */
size_t feedback_checks_json(struct buf *out, const struct series *s, const struct cell *cells, size_t n,
			    const char *url);

/*
 * reply.eml to the thread of the newest revision of 's': From 'from',
 * To its author, Cc its To and Cc, In-Reply-To and References its cover
 * letter (or first patch), Subject "Re: " and the thread's subject, the
 * text 'summary' (summary.txt) as its body, and 'url' below it.  'date'
 * is the Date: value, 'msgid' the new mail's Message-ID (without <>).
 * Returns 0, or -1 if the newest revision was not sent as mail (from
 * commits, or no Message-ID): no reply then.
 */
int feedback_reply(struct buf *out, const struct series *s, const char *from, const char *date,
		   const char *msgid, const char *summary, const char *url);

#endif
