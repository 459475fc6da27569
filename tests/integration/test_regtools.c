#include "config.h"
#include <criterion/criterion.h>
#include "harness.h"
TestSuite(regtools, .fini = h_cleanup, .timeout = 60);
