/* version.h - the product version, printed by every binary's --version. */
#ifndef BOURSE_VERSION_H
#define BOURSE_VERSION_H
#define BOURSE_VERSION "0.1.0"
#endif
