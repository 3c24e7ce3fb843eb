/* dundid-keygen: write an Asterisk-compatible RSA key pair (as astgenkey -n
 * does): NAME.key (private, mode 0600, unencrypted) and NAME.pub. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dundid/crypto.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: dundid-keygen [-d DIR] NAME\n"
               "  writes DIR/NAME.key (mode 0600) and DIR/NAME.pub, a 1024-bit RSA pair\n"
               "  usable as inkey/outkey by dundid and Asterisk (default DIR: .)\n");
}

int main(int argc, char **argv)
{
    const char *dir = ".";
    char err[512];
    int opt;

    while ((opt = getopt(argc, argv, "d:h")) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !argv[optind][0] || strchr(argv[optind], '/')) {
        usage(stderr);
        return 2;
    }
    if (crypto_generate_pair(dir, argv[optind], err, sizeof(err)) < 0) {
        fprintf(stderr, "dundid-keygen: %s\n", err);
        return 1;
    }
    printf("wrote %s/%s.key and %s/%s.pub\n", dir, argv[optind], dir, argv[optind]);
    return 0;
}
