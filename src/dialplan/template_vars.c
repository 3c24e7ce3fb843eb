/* The variable names of mapping templates. */
#include "dundid/template_vars.h"

#include <string.h>

static const char *const known_vars[] = {"NUMBER", "EID", "SECRET", "IPADDR", "CONTACT", "CONTACTURI", "REGISTRAR"};

bool mapping_var_known(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(known_vars) / sizeof(known_vars[0]); i++)
        if (strlen(known_vars[i]) == len && !strncmp(known_vars[i], name, len))
            return true;
    return false;
}
