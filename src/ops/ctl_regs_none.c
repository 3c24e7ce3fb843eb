/* "show registrations" for a build without the registration table. */
#include "ctl_cmds.h"

enum ctl_status show_registrations(struct ctl_call *c, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (c->out.json) {
        cj_obj(&c->out, NULL);
        cj_bool(&c->out, "configured", false);
        cj_arr(&c->out, "bindings");
        cj_end(&c->out);
        cj_end(&c->out);
    } else {
        ctl_printf(&c->out, "registrations: not configured\n");
    }
    return CTL_DONE;
}
