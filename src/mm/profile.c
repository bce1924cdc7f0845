// SPDX-License-Identifier: MIT
/*
 * mm/profile.c: the kernels memfail can behave as.  Each rule below is
 * a difference in mm/memory-failure.c or mm/madvise.c between releases;
 * doc/profiles.md gives the source of each.
 */
#include <string.h>

#include "../uapi/mf_proto.h"
#include "mm.h"

static const struct mf_profile profiles[] = {
	{
		.id = MF_PROFILE_LINUX_6_12,
		.name = "linux-6.12",
		.desc = "Linux 6.12: AR to the consumer; AO only to early-kill mappers that have the page mapped",
		.addr_unit_start = true,
		.madvise_step_unit = true,
		.kill_verb = "Sending SIGBUS to",
		.madvise_action_required = true,
		.node_counters = true,
		.enable_soft_offline = true,
		.hwpoison_swp_type = 27,
	},
	{
		.id = MF_PROFILE_LINUX_6_1,
		.name = "linux-6.1",
		.desc = "Linux 6.1: device DAX as 6.12; madvise(MADV_HWPOISON) of ordinary memory signals nothing until the page is touched",
		.addr_unit_start = true,
		.madvise_step_unit = true,
		.kill_verb = "Sending SIGBUS to",
		.hwpoison_swp_type = 26,
		.unpoison_pfn_last = true,
		.soft_offline_func_prefix = true,
		.fsdax_badblock_adrerr = true,
	},
	{
		.id = MF_PROFILE_LINUX_4_19,
		.name = "linux-4.19",
		.desc = "Linux 4.19 LTS (4.19.191+): every mapper is signalled (AR to the consumer, AO to the rest); mappers without the page mapped are left alone",
		.force_early = true,
		.madvise_skip_poisoned = true,
		.kill_verb = "Killing",
		.hwpoison_swp_type = 27,
		.unpoison_pfn_last = true,
		.fsdax_badblock_adrerr = true,
	},
	{
		.id = MF_PROFILE_LINUX_4_19_0,
		.name = "linux-4.19.0",
		.desc = "Linux 4.19.0 as released: as linux-4.19, but a mapper without the page mapped is SIGKILLed, and too much is unmapped",
		.force_early = true,
		.kill_unmapped = true,
		.madvise_skip_poisoned = true,
		.unmap_len_is_end = true,
		.kill_verb = "Killing",
		.hwpoison_swp_type = 27,
		.unpoison_pfn_last = true,
		.fsdax_badblock_adrerr = true,
	},
};

const struct mf_profile *mf_profile_default(void)
{
	return &profiles[0];
}

const struct mf_profile *mf_profile_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

const struct mf_profile *mf_profile_by_id(unsigned id)
{
	size_t i;

	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (profiles[i].id == id)
			return &profiles[i];
	return NULL;
}

const char *mf_profile_names(void)
{
	return "linux-6.12, linux-6.1, linux-4.19, linux-4.19.0";
}
