// A separate process that writes the kubeconfig through kubeyard's compiled kubeconfig module,
// for tests that need real concurrent writers and writers killed mid-write.
//
//   node kubeconfig-worker.mjs <module-url> upsert <kubeconfig> <name>
//       adds kubeyard's context <name> (made current) once; exit 0, or 3 on a UserError
//   node kubeconfig-worker.mjs <module-url> churn <kubeconfig> <name>
//       adds and removes context <name> until killed, printing "wrote" after every write
//
// It prints "ready" once the module is loaded, just before its first write.
const [moduleUrl, command, file, name] = process.argv.slice(2);
const kubeconfig = await import(moduleUrl);

const pem = (label, body) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
const entry = {
  name,
  server: `https://127.0.0.1:${40000 + (process.pid % 20000)}`,
  caData: pem("CERTIFICATE", `ca-of-${name}`),
  certData: pem("CERTIFICATE", `client-of-${name}`),
  keyData: pem("EC PRIVATE KEY", `key-of-${name}`),
};

process.stdout.write("ready\n");
try {
  if (command === "upsert") {
    await kubeconfig.upsertContext(file, entry, { setCurrent: true });
  } else if (command === "churn") {
    for (;;) {
      await kubeconfig.upsertContext(file, entry, { setCurrent: true });
      process.stdout.write("wrote\n");
      await kubeconfig.removeContext(file, name);
      process.stdout.write("wrote\n");
    }
  } else {
    throw new Error(`unknown command ${command}`);
  }
} catch (err) {
  process.stderr.write(`${err.name}: ${err.message}\n`);
  process.exit(err.name === "UserError" ? 3 : 1);
}
