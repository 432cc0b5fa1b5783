// Every test file runs with @imagespec/test-suite's network guard: a TCP connection to anything but this
// machine fails at once, so no test can reach Google (googleapis.com, the metadata server) even by mistake.
import { denyNetworkExceptLoopback } from "@imagespec/test-suite";

denyNetworkExceptLoopback();
