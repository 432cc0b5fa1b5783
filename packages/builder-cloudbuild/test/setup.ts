// Every test file runs with @imagespec/test-suite's network guard: a TCP connection to anything but this
// machine fails at once, so no test can reach Google (cloudbuild.googleapis.com, storage.googleapis.com, the
// metadata server) even by mistake. Application Default Credentials never probe the metadata server here
// either.
import { denyNetworkExceptLoopback } from "@imagespec/test-suite";

process.env.METADATA_SERVER_DETECTION = "none";
denyNetworkExceptLoopback();
