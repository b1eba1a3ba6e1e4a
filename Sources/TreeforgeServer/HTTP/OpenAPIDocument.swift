/// The API's OpenAPI 3 document, served at `/api/v1/openapi.json`. A test
/// checks its paths and methods against the router's routes, and
/// `scripts/api-fuzz` runs schemathesis against a live server with it.
/// Optional fields are left out of a response rather than sent as null.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.0.3",
      "info": {
        "title": "treeforge compose server",
        "version": "1",
        "description": "Queue composes of rpm-ostree treefiles, follow their builds, manage schedules. Reads are public; every change needs `Authorization: Bearer TOKEN` with the right scope (submit, cancel, schedule, admin) and a ref prefix covering the treefile's ref. The OSTree repository itself is served read-only under /repo/."
      },
      "servers": [{"url": "/"}],
      "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "parameters": {
          "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 9223372036854775807}},
          "other": {"name": "other", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 9223372036854775807}},
          "name": {"name": "name", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}}
        },
        "responses": {
          "Error": {"description": "The request was refused or failed; `code` is stable, `message` is for people.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        },
        "schemas": {
          "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"],
                                     "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}
          },
          "Status": {"type": "string", "enum": ["queued", "running", "publishing", "succeeded", "unchanged", "failed", "cancelled", "interrupted"]},
          "ComposeSubmission": {
            "type": "object", "required": ["treefile"],
            "properties": {
              "treefile": {"type": "string", "minLength": 1, "description": "Its path under the server's treefiles folder, like demo/demo.yaml."},
              "force": {"type": "boolean", "description": "Compose even when the inputs are unchanged."},
              "version": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^\\n\\r]*$", "description": "The version to give the commit (default: the next one)."}
            }
          },
          "Submitted": {
            "type": "object", "required": ["id", "url", "status", "coalesced"],
            "properties": {"id": {"type": "integer"}, "url": {"type": "string"}, "status": {"$ref": "#/components/schemas/Status"},
                           "coalesced": {"type": "boolean", "description": "Joined a build already queued for the same ref."}}
          },
          "BuildSummary": {
            "type": "object", "required": ["id", "url", "status", "trigger", "startedAt"],
            "properties": {
              "id": {"type": "integer"}, "url": {"type": "string"}, "status": {"$ref": "#/components/schemas/Status"},
              "ref": {"type": "string"}, "version": {"type": "string"}, "commit": {"type": "string"}, "composeId": {"type": "string"},
              "trigger": {"type": "string"}, "startedAt": {"type": "string", "format": "date-time"},
              "finishedAt": {"type": "string", "format": "date-time"}
            }
          },
          "BuildList": {
            "type": "object", "required": ["builds"],
            "properties": {"builds": {"type": "array", "items": {"$ref": "#/components/schemas/BuildSummary"}},
                           "next": {"type": "string", "description": "The `before` of the next page."}}
          },
          "Delta": {
            "type": "object", "required": ["to", "size", "parts"],
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "size": {"type": "integer"}, "parts": {"type": "integer"}}
          },
          "Build": {
            "type": "object",
            "required": ["id", "url", "eventsUrl", "status", "trigger", "startedAt", "stageSeconds", "stageInputs", "packages", "eventCounts", "deltas"],
            "properties": {
              "id": {"type": "integer"}, "url": {"type": "string"}, "eventsUrl": {"type": "string"},
              "status": {"$ref": "#/components/schemas/Status"}, "ref": {"type": "string"}, "version": {"type": "string"},
              "commit": {"type": "string"}, "parent": {"type": "string"}, "composeId": {"type": "string"}, "trigger": {"type": "string"},
              "pid": {"type": "integer"}, "treefile": {"type": "string"}, "submittedBy": {"type": "string"},
              "submittedAt": {"type": "string", "format": "date-time"}, "startedAt": {"type": "string", "format": "date-time"},
              "finishedAt": {"type": "string", "format": "date-time"}, "publishedAt": {"type": "string", "format": "date-time"},
              "pullCheck": {"type": "string", "description": "The stock ostree client's pull of the new head from /repo/, or why it failed."},
              "inputHash": {"type": "string"},
              "stageSeconds": {"type": "object", "additionalProperties": {"type": "number"}},
              "stageInputs": {"type": "object", "additionalProperties": {"type": "string"}},
              "failedStage": {"type": "string"}, "error": {"type": "string"},
              "packages": {"type": "array", "items": {"type": "string"}},
              "eventCounts": {"type": "object", "additionalProperties": {"type": "integer"}},
              "requeuedAs": {"type": "integer"},
              "deltas": {"type": "array", "items": {"$ref": "#/components/schemas/Delta"}},
              "treeSize": {"type": "integer", "description": "Bytes of the committed tree's files, each hardlinked file once."},
              "treeFiles": {"type": "integer", "description": "Files and symlinks in the committed tree."},
              "inputs": {"type": "object", "additionalProperties": {"type": "string"},
                         "description": "What the build was made from, by name (treefile, lockfile): the URL of each."}
            }
          },
          "Event": {
            "type": "object", "required": ["schema", "seq", "time", "type"],
            "description": "One compose event as docs/events.md describes it.",
            "properties": {"schema": {"type": "integer"}, "seq": {"type": "integer"}, "time": {"type": "string"}, "type": {"type": "string"}}
          },
          "Diff": {
            "type": "object", "required": ["from", "to", "diff"],
            "properties": {"from": {"type": "integer"}, "to": {"type": "integer"}, "diff": {"type": "object"}}
          },
          "Cancel": {
            "type": "object", "required": ["id", "status"],
            "properties": {"id": {"type": "integer"}, "status": {"type": "string", "enum": ["cancelled", "cancelling"]}}
          },
          "Ref": {
            "type": "object", "required": ["ref", "head", "published", "deltas"],
            "properties": {"ref": {"type": "string"}, "head": {"type": "string"}, "version": {"type": "string"},
                           "timestamp": {"type": "string", "format": "date-time"}, "published": {"type": "boolean"},
                           "build": {"type": "integer"}, "deltas": {"type": "array", "items": {"type": "string"}}}
          },
          "RefList": {
            "type": "object", "required": ["refs", "summarySigned"],
            "properties": {"refs": {"type": "array", "items": {"$ref": "#/components/schemas/Ref"}},
                           "summaryWrittenAt": {"type": "string", "format": "date-time"}, "summarySigned": {"type": "boolean"}}
          },
          "TreefileList": {
            "type": "object", "required": ["treefiles"],
            "properties": {"treefiles": {"type": "array", "items": {"type": "object", "required": ["name"],
                           "properties": {"name": {"type": "string"}, "ref": {"type": "string"}, "error": {"type": "string"}}}}}
          },
          "ScheduleCreate": {
            "allOf": [{"$ref": "#/components/schemas/ScheduleInput"}, {"type": "object", "required": ["name", "treefile", "cron"]}]
          },
          "ScheduleInput": {
            "type": "object",
            "properties": {
              "name": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}, "treefile": {"type": "string", "minLength": 1},
              "cron": {"type": "string", "description": "Five fields: minute hour day-of-month month day-of-week; or @daily, @hourly, …"},
              "timeZone": {"type": "string", "description": "UTC (default) or a named zone such as Europe/Berlin."},
              "composeUnchanged": {"type": "boolean"}, "missedRuns": {"type": "string", "enum": ["run-once", "skip"]},
              "paused": {"type": "boolean"}
            }
          },
          "Schedule": {
            "type": "object",
            "required": ["name", "url", "treefile", "cron", "timeZone", "composeUnchanged", "missedRuns", "paused", "origin"],
            "properties": {
              "name": {"type": "string"}, "url": {"type": "string"}, "treefile": {"type": "string"}, "cron": {"type": "string"},
              "timeZone": {"type": "string"}, "composeUnchanged": {"type": "boolean"},
              "missedRuns": {"type": "string", "enum": ["run-once", "skip"]}, "paused": {"type": "boolean"},
              "origin": {"type": "string", "enum": ["config", "api"]},
              "nextRunAt": {"type": "string", "format": "date-time"}, "lastRunAt": {"type": "string", "format": "date-time"},
              "lastBuildId": {"type": "integer"}, "lastBuildStatus": {"$ref": "#/components/schemas/Status"}
            }
          },
          "ScheduleList": {
            "type": "object", "required": ["schedules"],
            "properties": {"schedules": {"type": "array", "items": {"$ref": "#/components/schemas/Schedule"}}}
          },
          "Health": {
            "type": "object", "required": ["status", "checks"],
            "properties": {"status": {"type": "string", "enum": ["ok", "failing"]},
                           "checks": {"type": "object", "additionalProperties": {"type": "object", "required": ["ok", "detail"],
                                      "properties": {"ok": {"type": "boolean"}, "detail": {"type": "string"}}}}}
          }
        }
      },
      "paths": {
        "/api/v1/composes": {
          "post": {
            "summary": "Queue a compose of a treefile", "operationId": "submitCompose", "security": [{"token": []}],
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                            "description": "A retry with the same key returns the same build."}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ComposeSubmission"}}}},
            "responses": {
              "202": {"description": "Queued (or joined the build already queued for the ref).",
                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submitted"}}}},
              "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
              "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/api/v1/builds": {
          "get": {
            "summary": "Builds, newest first", "operationId": "listBuilds",
            "parameters": [
              {"name": "ref", "in": "query", "schema": {"type": "string"}},
              {"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/Status"}},
              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
              {"name": "before", "in": "query", "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 9223372036854775807}}
            ],
            "responses": {"200": {"description": "A page of builds.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BuildList"}}}},
                          "400": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/builds/{id}": {
          "get": {
            "summary": "One build", "operationId": "getBuild", "parameters": [{"$ref": "#/components/parameters/id"}],
            "responses": {"200": {"description": "The build.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Build"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/builds/{id}/events": {
          "get": {
            "summary": "The build's recorded event stream", "operationId": "getBuildEvents", "parameters": [{"$ref": "#/components/parameters/id"}],
            "responses": {"200": {"description": "Its events in order.",
                                  "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/builds/{id}/log": {
          "get": {
            "summary": "The build's events as Server-Sent Events, live while it runs", "operationId": "streamBuildLog",
            "parameters": [
              {"$ref": "#/components/parameters/id"},
              {"name": "from", "in": "query", "schema": {"type": "string", "pattern": "^(start|tail|[0-9]{1,9})$"},
               "description": "start (default), tail (the last `tail` events, then what comes), or the seq of the first event."},
              {"name": "tail", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}},
              {"name": "stage", "in": "query", "schema": {"type": "string", "enum": ["load", "resolve", "lock", "download", "install", "postprocess", "commit", "publish", "record"]}},
              {"name": "Last-Event-ID", "in": "header", "required": false, "schema": {"type": "string", "pattern": "^[0-9]{1,9}$"},
               "description": "Resume after this event (what EventSource sends when it reconnects)."}
            ],
            "responses": {"200": {"description": "`id: SEQ`, `event: TYPE`, `data: LINE` per event; `event: end` with the status when the build has ended.",
                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/builds/{id}/treefile": {
          "get": {
            "summary": "The treefile the build used, flattened (includes merged), as `compose tree --print-only` prints it", "operationId": "getBuildTreefile",
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "responses": {"200": {"description": "The treefile as JSON.", "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/builds/{id}/lockfile": {
          "get": {
            "summary": "The packages the build resolved, as an rpm-ostree lockfile (for `--ex-lockfile`)", "operationId": "getBuildLockfile",
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "responses": {"200": {"description": "The lockfile as JSON.", "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/builds/{id}/diff/{other}": {
          "get": {
            "summary": "The package changes from one build to another", "operationId": "diffBuilds",
            "parameters": [{"$ref": "#/components/parameters/id"}, {"$ref": "#/components/parameters/other"}],
            "responses": {"200": {"description": "Added, removed and changed packages.",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Diff"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/builds/{id}/cancel": {
          "post": {
            "summary": "Cancel a queued or running build", "operationId": "cancelBuild", "security": [{"token": []}],
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "responses": {"202": {"description": "Cancelled (queued) or being cancelled (running).",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cancel"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                          "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                          "409": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/refs": {
          "get": {
            "summary": "The repository's refs", "operationId": "listRefs",
            "responses": {"200": {"description": "Each ref's head, version, publication and deltas.",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RefList"}}}}}
          }
        },
        "/api/v1/treefiles": {
          "get": {
            "summary": "The treefiles the server can compose", "operationId": "listTreefiles",
            "responses": {"200": {"description": "By name, with their refs.",
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TreefileList"}}}}}
          }
        },
        "/api/v1/schedules": {
          "get": {
            "summary": "Schedules", "operationId": "listSchedules",
            "responses": {"200": {"description": "Every schedule.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScheduleList"}}}}}
          },
          "post": {
            "summary": "Create a schedule", "operationId": "createSchedule", "security": [{"token": []}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScheduleCreate"}}}},
            "responses": {"201": {"description": "Created.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Schedule"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                          "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                          "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
                          "422": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/schedules/{name}": {
          "get": {
            "summary": "One schedule", "operationId": "getSchedule", "parameters": [{"$ref": "#/components/parameters/name"}],
            "responses": {"200": {"description": "The schedule.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Schedule"}}}},
                          "404": {"$ref": "#/components/responses/Error"}}
          },
          "patch": {
            "summary": "Change a schedule (a config file's schedule: only pause or resume it)", "operationId": "updateSchedule",
            "security": [{"token": []}], "parameters": [{"$ref": "#/components/parameters/name"}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScheduleInput"}}}},
            "responses": {"200": {"description": "Changed.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Schedule"}}}},
                          "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                          "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                          "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
                          "422": {"$ref": "#/components/responses/Error"}}
          },
          "delete": {
            "summary": "Delete a schedule made through the API", "operationId": "deleteSchedule", "security": [{"token": []}],
            "parameters": [{"$ref": "#/components/parameters/name"}],
            "responses": {"204": {"description": "Deleted."}, "401": {"$ref": "#/components/responses/Error"},
                          "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
                          "409": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/schedules/{name}/run": {
          "post": {
            "summary": "Queue the schedule's compose now", "operationId": "runSchedule", "security": [{"token": []}],
            "parameters": [{"$ref": "#/components/parameters/name"}],
            "responses": {"202": {"description": "Queued.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submitted"}}}},
                          "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
                          "404": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/api/v1/openapi.json": {
          "get": {"summary": "This document", "operationId": "openAPI",
                  "responses": {"200": {"description": "OpenAPI 3.", "content": {"application/json": {"schema": {"type": "object"}}}}}}
        },
        "/health": {
          "get": {
            "summary": "Whether the database, the repository and its disk are fine", "operationId": "health",
            "responses": {"200": {"description": "All checks pass.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                          "503": {"description": "A check fails.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}
          }
        },
        "/metrics": {
          "get": {"summary": "Prometheus metrics", "operationId": "metrics",
                  "responses": {"200": {"description": "The text exposition format 0.0.4.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}
        },
        "/repo/{path}": {
          "get": {
            "summary": "A file of the OSTree repository (for ostree pull and mirrors)", "operationId": "repositoryFile",
            "parameters": [{"name": "path", "in": "path", "required": true, "schema": {"type": "string"},
                            "description": "A path below the repository (config, summary, refs/heads/…, objects/…, deltas/…)."},
                           {"name": "Range", "in": "header", "required": false, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The file.", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                          "206": {"description": "The range asked for."}, "304": {"description": "Not modified (If-None-Match, If-Modified-Since)."},
                          "404": {"$ref": "#/components/responses/Error"}, "416": {"description": "The range is not satisfiable."}}
          },
          "head": {
            "summary": "A file's headers", "operationId": "repositoryFileHead",
            "parameters": [{"name": "path", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "Its headers."}, "304": {"description": "Not modified."}, "404": {"description": "No such file."}}
          }
        }
      }
    }
    """#
}
