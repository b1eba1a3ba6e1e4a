/// The pages' stylesheet and their few lines of progressive enhancement,
/// served from the binary (no build step, no framework).
enum Assets {
    static let css = """
        :root { font-family: system-ui, sans-serif; color: #1d2125; background: #fff; }
        body { margin: 0; }
        header { display: flex; gap: 1.5rem; align-items: baseline; padding: .75rem 1rem; background: #1d2125; color: #fff; }
        header a { color: #cfe2ff; margin-right: 1rem; }
        header a.current { color: #fff; font-weight: bold; }
        main { padding: 1rem; max-width: 72rem; }
        table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
        th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #dee2e6; vertical-align: top; }
        code, pre { font-family: ui-monospace, monospace; font-size: .9em; }
        pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; white-space: pre-wrap; max-height: 32rem; overflow-y: auto; }
        pre, p code, li code { overflow-wrap: anywhere; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
        dt { font-weight: bold; }
        dd { margin: 0; overflow-wrap: anywhere; }
        .status { padding: 0 .4rem; border-radius: .25rem; background: #e9ecef; }
        .status-succeeded { background: #d1e7dd; } .status-failed, .status-interrupted { background: #f8d7da; }
        .status-running, .status-publishing { background: #cfe2ff; } .status-queued { background: #fff3cd; }
        form { display: inline; } header .session { margin-left: auto; }
        .error { color: #842029; } .checks .failing { color: #842029; }
        .chart { width: 100%; max-width: 40rem; height: auto; }
        pre.value { margin: 0; padding: .2rem .4rem; max-height: 12rem; }
        details pre { max-height: 24rem; }
        .scroll { overflow-x: auto; }
        .swatch { display: inline-block; width: .8rem; height: .8rem; margin: 0 .2rem 0 .6rem; }
        @media (max-width: 40rem) { td, th { padding: .2rem; font-size: .85rem; } dl.facts { grid-template-columns: 1fr; } }

        """

    static let script = """
        "use strict";
        // Progressive enhancement: the pages work without this; with it they follow the server.
        (function () {
          function text(event) {
            var e;
            try { e = JSON.parse(event.data); } catch (error) { return event.type + " " + event.data; }
            switch (event.type) {
              case "stageStarted": return "\\u25b6 " + e.stage;
              case "stageFinished": return "\\u2713 " + e.stage + " " + e.seconds.toFixed(2) + " s";
              case "package": return "  [" + e.index + "/" + e.total + "] " + e.nevra;
              case "scriptletStarted": return "  " + e.scriptlet + " " + e.package;
              case "scriptletFinished": return (e.output || []).map(function (line) { return "    " + line; }).join("\\n");
              case "warning": return "warning: " + e.message;
              case "error": return "error: " + e.stage + ": " + (e.subject ? e.subject + ": " : "") + e.message;
              case "outcome": return "outcome: " + e.status + (e.commit ? " " + e.commit : "");
              case "buildStarted": return "build #" + e.build + " " + (e.composeId || "") + " (" + e.ref + ")";
              default: return event.type;
            }
          }
          var types = ["stageStarted", "stageFinished", "package", "scriptletStarted", "scriptletFinished", "warning", "error",
                       "outcome", "buildStarted", "waiting", "publishResumed"];

          function setStatus(element, status) {
            if (!element) { return; }
            element.textContent = status;
            element.className = "status status-" + status;
          }

          var log = document.getElementById("build-log");
          if (log) {
            var facts = document.querySelector("dl.facts");
            var source = new EventSource(log.getAttribute("data-log"));
            log.textContent = "";
            types.forEach(function (type) {
              source.addEventListener(type, function (event) {
                var line = text(event);
                if (line) { log.textContent += line + "\\n"; log.scrollTop = log.scrollHeight; }
              });
            });
            source.addEventListener("end", function (event) {
              source.close();
              try { setStatus(facts && facts.querySelector("[data-status]"), JSON.parse(event.data).status); } catch (error) {}
            });
          }

          var running = document.getElementById("running-builds");
          var recent = document.getElementById("recent-builds");
          if (running || recent) {
            var following = {};
            function follow(id, cell) {
              if (following[id]) { return; }
              var source = new EventSource("/api/v1/builds/" + id + "/log?from=tail&tail=200");
              following[id] = source;
              source.addEventListener("stageStarted", function (event) { cell.textContent = JSON.parse(event.data).stage; });
              source.addEventListener("package", function (event) {
                var e = JSON.parse(event.data);
                cell.textContent = "install " + e.index + "/" + e.total + " " + e.nevra;
              });
              source.addEventListener("end", function (event) { source.close(); cell.textContent = JSON.parse(event.data).status; });
            }
            function unfollow(id) {
              if (following[id]) { following[id].close(); delete following[id]; }
            }
            // A row like the server renders: the build's link first, then `count - 1` cells.
            function buildRow(id, count) {
              var row = document.createElement("tr");
              row.setAttribute("data-build", id);
              for (var i = 0; i < count; i++) { row.appendChild(document.createElement("td")); }
              var link = document.createElement("a");
              link.href = "/builds/" + id;
              link.textContent = "#" + id;
              row.cells[0].appendChild(link);
              return row;
            }
            // The running table: rows for builds that started since the page loaded, none for those that ended.
            function showRunning(builds) {
              var body = running.querySelector("tbody");
              var live = {};
              builds.forEach(function (build) {
                if (build.status !== "running") { return; }
                live[build.id] = true;
                var row = body.querySelector("tr[data-build='" + build.id + "']");
                if (!row) {
                  row = buildRow(build.id, 4);
                  row.cells[1].textContent = build.ref || "\\u2014";
                  row.cells[2].setAttribute("data-progress", "");
                  row.cells[2].textContent = "starting";
                  row.cells[3].textContent = build.startedAt;
                  body.appendChild(row);
                }
                follow(build.id, row.querySelector("[data-progress]"));
              });
              Array.prototype.slice.call(body.querySelectorAll("tr[data-build]")).forEach(function (row) {
                var id = row.getAttribute("data-build");
                if (!live[id]) { unfollow(id); body.removeChild(row); }
              });
              var empty = body.querySelector("tr.empty");
              if (empty) { empty.hidden = body.querySelector("tr[data-build]") !== null; }
            }
            function showRecent(builds) {
              var body = recent.querySelector("tbody");
              builds.slice().reverse().forEach(function (build) {
                var row = body.querySelector("tr[data-build='" + build.id + "']");
                if (!row) {
                  row = buildRow(build.id, 6);
                  var status = document.createElement("span");
                  status.setAttribute("data-status", "");
                  row.cells[1].appendChild(status);
                  row.cells[2].textContent = build.ref || "\\u2014";
                  row.cells[3].setAttribute("data-version", "");
                  row.cells[4].textContent = build.trigger;
                  row.cells[5].textContent = build.startedAt;
                  body.insertBefore(row, body.firstChild);
                }
                setStatus(row.querySelector("[data-status]"), build.status);
                var version = row.querySelector("[data-version]");
                if (version && build.version) { version.textContent = build.version; }
              });
              var empty = body.querySelector("tr.empty");
              if (empty) { empty.hidden = body.querySelector("tr[data-build]") !== null; }
            }
            function refresh() {
              fetch("/api/v1/builds?limit=25").then(function (response) { return response.json(); }).then(function (list) {
                if (running) { showRunning(list.builds); }
                if (recent) { showRecent(list.builds); }
              }).catch(function () {});
            }
            refresh();
            setInterval(refresh, 2000);
          }
        })();

        """
}
