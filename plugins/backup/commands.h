/* `chorectl backup …` subcommands (chored-backup(7)). */
#ifndef BACKUP_COMMANDS_H
#define BACKUP_COMMANDS_H

#include <chored/plugin.h>

extern const struct chored_command bk_commands[];

#endif
