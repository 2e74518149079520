/* serve.c: placeholder until the embedded endpoint lands (issue 3). */
#include "serve/serve.h"
#include <stdio.h>
int serve_main(int argc, char **argv) { fputs("loadgen: serve: not built yet\n", stderr); return 2; }
