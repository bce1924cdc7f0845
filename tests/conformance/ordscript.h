/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/ordscript.h: the engine of the ordinary-memory
 * scenario programs (mford.c, mfmemcases.c): a scenario is a script of
 * mfactor commands, its transcript made comparable between kernels.
 */
#ifndef ORDSCRIPT_H
#define ORDSCRIPT_H

struct scenario {
	const char *name;
	int early_kill;		/* what vm.memory_failure_early_kill is meant to be */
	/* "", "hugetlb", "root"; "panic": the real kernel panics, so the
	 * oracle runs it in a boot of its own */
	const char *needs;
	const char *desc;
	const char *const *lines;
};

#define S(...) ((const char *const[]){ __VA_ARGS__, NULL })

/*
 *   PROG list [-v]     scenario names (-v: early_kill, needs, description)
 *   PROG run NAME      run one scenario, print its transcript
 *   PROG serve         an actor on stdin/stdout (what execserve runs)
 * scenarios ends with a NULL name.
 */
int ord_main(int argc, char **argv, const char *prog, const struct scenario *scenarios);

#endif /* ORDSCRIPT_H */
