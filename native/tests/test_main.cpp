#include "test_main.h"

int main(int argc, char** argv) { return ct_test::RunAll(argc, argv); }
