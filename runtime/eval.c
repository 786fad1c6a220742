// SPDX-License-Identifier: GPL-2.0
/* The native build of stdlib/fbpf_eval.h. */
#include <stddef.h>
#include <string.h>

#include "eval.h"

#define FBPF_SCRATCH_EXT const __u32 *words; __u32 nwords;
#define FBPF_TAB(s, i) ((__u32)(i) < (s)->nwords ? (s)->words[(__u32)(i)] : 0u)
#define FBPF_FUNC static
#include "fbpf_eval.h"

int fbpf_eval(const struct fbpf_object *o, struct fbpf_args *args)
{
	struct fbpf_scratch s;

	memcpy(&s.a, args, FBPF_ARGS_OUT_OFFSET);
	s.words = o->words;
	s.nwords = o->nwords;
	fbpf_load_header(&s);
	fbpf_filter(&s);
	memcpy((char *)args + FBPF_ARGS_OUT_OFFSET, (char *)&s.a + FBPF_ARGS_OUT_OFFSET,
	       offsetof(struct fbpf_args, out_name) - FBPF_ARGS_OUT_OFFSET);
	if (s.a.out_flags & FBPF_OUT_NAME)
		memcpy(args->out_name, s.a.out_name, sizeof(args->out_name));
	return s.a.verdict;
}
