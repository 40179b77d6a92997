// Empty: this target only exists to build the shared precompiled header.
