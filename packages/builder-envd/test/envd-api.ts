// envd's build.envd v1 API: every function and the names of its parameters, as envd's API reference gives
// them. Sources (tensorchord/envd-docs, generated from tensorchord/envd envd/api/v1/*.py):
//   docs/api/starlark/v1/global.md   base, shell, run, git_config, include
//   docs/api/starlark/v1/install.md  install.*
//   docs/api/starlark/v1/config.md   config.*
//   docs/api/starlark/v1/io.md       io.copy(source, target, image), io.http
//   docs/api/starlark/v1/runtime.md  runtime.*
// Before envd v0.3.38, io.copy was copy(host_path, envd_path) (envd/api/v1/io.py of that time; the change is
// envd commit 66d6d785, first tagged v0.3.38).
// `required`: parameters without a default; `types`: the type of the parameters imagespec writes.

export interface EnvdFunction {
  params: readonly string[];
  required?: readonly string[];
  types?: Readonly<Record<string, "str" | "bool" | "list[str]" | "dict[str,str]">>;
}

export const ENVD_V1_API: Readonly<Record<string, EnvdFunction>> = {
  base: { params: ["image", "dev"], types: { image: "str", dev: "bool" } },
  shell: { params: ["name"] },
  run: { params: ["commands", "mount_host"], required: ["commands"], types: { commands: "list[str]" } },
  git_config: { params: ["name", "email", "editor"] },
  include: { params: ["git"], required: ["git"] },

  "install.python": { params: ["version"], types: { version: "str" } },
  "install.conda": { params: ["use_mamba"], types: { use_mamba: "bool" } },
  "install.pixi": { params: ["use_pixi_mirror", "pypi_index"] },
  "install.uv": { params: ["python_version"] },
  "install.r_lang": { params: [] },
  "install.julia": { params: [] },
  "install.rust": { params: ["version"] },
  "install.go": { params: ["version"] },
  "install.nodejs": { params: ["version"] },
  "install.codex": { params: ["version"] },
  "install.apt_packages": { params: ["name"], types: { name: "list[str]" } },
  "install.python_packages": {
    params: ["name", "requirements", "local_wheels"],
    types: { name: "list[str]", requirements: "str" },
  },
  "install.conda_packages": {
    params: ["name", "channel", "env_file"],
    types: { name: "list[str]", channel: "list[str]" },
  },
  "install.r_packages": { params: ["name"], required: ["name"] },
  "install.julia_packages": { params: ["name"], required: ["name"] },
  "install.vscode_extensions": { params: ["name"], required: ["name"] },
  "install.cuda": {
    params: ["version", "cudnn"],
    required: ["version"],
    types: { version: "str", cudnn: "str" },
  },

  "config.apt_source": { params: ["source"] },
  "config.jupyter": { params: ["token", "port"] },
  "config.pip_index": {
    params: ["url", "extra_url", "trust"],
    required: ["url"],
    types: { url: "str", extra_url: "str" },
  },
  "config.conda_channel": { params: ["channel"], required: ["channel"] },
  "config.entrypoint": { params: ["args"], required: ["args"], types: { args: "list[str]" } },
  "config.gpu": { params: ["count"], required: ["count"] },
  "config.cran_mirror": { params: ["url"], required: ["url"] },
  "config.julia_pkg_server": { params: ["url"], required: ["url"] },
  "config.rstudio_server": { params: [] },
  "config.repo": { params: ["url", "description"] },
  "config.owner": { params: ["uid", "gid"] },

  "io.copy": {
    params: ["source", "target", "image"],
    required: ["source", "target"],
    types: { source: "str", target: "str" },
  },
  "io.http": { params: ["url", "checksum", "filename"], required: ["url"] },

  "runtime.command": { params: ["commands"], required: ["commands"] },
  "runtime.expose": { params: ["envd_port", "host_port", "service", "listen_addr"], required: ["envd_port"] },
  "runtime.daemon": { params: ["commands"], required: ["commands"] },
  "runtime.environ": {
    params: ["env", "extra_path"],
    types: { env: "dict[str,str]", extra_path: "list[str]" },
  },
  "runtime.mount": { params: ["host_path", "envd_path"], required: ["host_path", "envd_path"] },
  "runtime.init": { params: ["commands"], required: ["commands"] },
};

/** io.copy before envd v0.3.38. */
export const IO_COPY_BEFORE_0_3_38: EnvdFunction = {
  params: ["host_path", "envd_path"],
  required: ["host_path", "envd_path"],
  types: { host_path: "str", envd_path: "str" },
};
