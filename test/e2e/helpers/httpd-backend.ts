import { BUSYBOX } from "./node-images.js";

/**
 * A Deployment and a Service `name` in `namespace`: a busybox httpd answering `backend-NAME` at /
 * and at /NAME, on the Service's port 80, for tests of what routes requests to a backend.
 */
export function httpdBackend(namespace: string, name: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
        - name: httpd
          image: ${BUSYBOX}
          imagePullPolicy: IfNotPresent
          command: [sh, -c, "mkdir -p /www && echo backend-${name} > /www/index.html && echo backend-${name} > /www/${name} && exec httpd -f -p 8080 -h /www"]
          ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {app: ${name}}
  ports: [{port: 80, targetPort: 8080}]
`;
}
