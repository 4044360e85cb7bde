/* badabi: a plugin built for the next ABI major, which every host must refuse. */
#include <chored/plugin.h>

static enum chored_status run(struct chored_job *job)
{
	chored_summary(job, "must never run");
	return CHORED_OK;
}

CHORED_EXPORT const struct chored_plugin chored_plugin_v1 = {
    .abi_major = CHORED_ABI_MAJOR + 1,
    .abi_minor = 0,
    .size = (uint32_t)sizeof(struct chored_plugin),
    .name = "badabi",
    .version = "1.0",
    .summary = "ABI major from the future",
    .run = run,
};
