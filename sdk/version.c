#include "chored-build.h"

#include "chored/version.h"

const char *chored_version(void)
{
	return PACKAGE_VERSION;
}
