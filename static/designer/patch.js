// Writes a server-validated panel patch into the diagram through the bpmn-js modeling
// API. The whole patch runs as ONE command ("flowyard.applyPatch") whose preExecute
// issues the real modeling commands, so a single Ctrl+Z undoes a whole panel edit.
// Unchanged values issue no command at all, so re-applying a patch is a no-op; a patch that
// changes nothing is not executed at all, so it leaves no empty step on the undo stack (an
// empty step made the next Ctrl+Z look like it did nothing).
(function () {
  "use strict";

  const EXTENSION_TYPES = { formField: "flowyard:FormField", http: "flowyard:Http", input: "flowyard:Input", output: "flowyard:Output" };
  const EXTENSION_ATTRS = {
    formField: ["key", "label", "type", "required", "choices", "default", "help"],
    http: ["method", "url", "headers", "body"], input: ["name", "expr"], output: ["name", "expr"],
  };
  const TIMER_KINDS = ["timeDuration", "timeDate", "timeCycle"];

  const blank = (v) => v === undefined || v === null || v === "";
  const same = (a, b) => (blank(a) && blank(b)) || a === b;
  const body = (expression) => (expression ? expression.body : undefined);

  function PatchHandler(modeler) {
    this.modeler = modeler;
  }

  PatchHandler.prototype.preExecute = function (context) {
    apply(this.modeler, context.patch);
  };

  function register(modeler) {
    modeler.get("commandStack").register("flowyard.applyPatch", new PatchHandler(modeler));
  }

  function targetOf(modeler, id) {
    const registry = modeler.get("elementRegistry");
    const element = registry.get(id);
    if (element) return { element, bo: element.businessObject };
    // a process drawn inside a pool: edit the process through its participant
    const pool = registry.find((e) => e.businessObject && e.businessObject.processRef && e.businessObject.processRef.id === id);
    if (pool) return { element: pool, bo: pool.businessObject.processRef };
    const root = modeler.get("canvas").getRootElement();
    if (root.businessObject && root.businessObject.id === id) return { element: root, bo: root.businessObject };
    return null;
  }

  function update(modeler, target, moddleElement, props) {
    const changed = {};
    Object.keys(props).forEach((key) => {
      const want = props[key] === null ? undefined : props[key];
      if (!same(moddleElement.get(key), want)) changed[key] = want;
    });
    if (!Object.keys(changed).length) return;
    const modeling = modeler.get("modeling");
    if (moddleElement === target.element.businessObject) modeling.updateProperties(target.element, changed);
    else modeling.updateModdleProperties(target.element, moddleElement, changed);
  }

  function rootElement(modeler, target, type, match, create) {
    const definitions = modeler.getDefinitions();
    const found = (definitions.rootElements || []).find((e) => e.$instanceOf(type) && match(e));
    if (found) return found;
    const moddle = modeler.get("moddle");
    const element = moddle.create(type, create);
    element.id = moddle.ids.nextPrefixed(type.replace("bpmn:", "") + "_", element);
    element.$parent = definitions;
    modeler.get("modeling").updateModdleProperties(target.element, definitions, {
      rootElements: (definitions.rootElements || []).concat([element]),
    });
    return element;
  }

  function setReference(modeler, target, holder, refName, type, value, match, create) {
    const current = holder.get(refName);
    if (blank(value)) {
      if (current) update(modeler, target, holder, { [refName]: null });
      return;
    }
    if (current && match(current)) return;
    const element = rootElement(modeler, target, type, match, create);
    modeler.get("modeling").updateModdleProperties(target.element, holder, { [refName]: element });
  }

  function extensionRows(element, kind) {
    return EXTENSION_ATTRS[kind].reduce((row, attr) => {
      if (!blank(element.get(attr))) row[attr] = element.get(attr);
      return row;
    }, {});
  }

  function applyExtensions(modeler, target, wanted) {
    const moddle = modeler.get("moddle");
    const bo = target.bo;
    const ext = bo.get("extensionElements");
    const values = ext ? ext.get("values") : [];
    const changedKinds = Object.keys(wanted).filter((kind) => {
      const now = values.filter((v) => v.$type === EXTENSION_TYPES[kind]).map((v) => extensionRows(v, kind));
      return JSON.stringify(now) !== JSON.stringify(wanted[kind]);
    });
    if (!changedKinds.length) return;
    const container = ext || moddle.create("bpmn:ExtensionElements", { values: [] });
    const kept = values.filter((v) => !changedKinds.some((kind) => v.$type === EXTENSION_TYPES[kind]));
    const created = [];
    Object.keys(EXTENSION_TYPES).forEach((kind) => {
      if (!changedKinds.includes(kind)) return;
      wanted[kind].forEach((attrs) => {
        const child = moddle.create(EXTENSION_TYPES[kind], attrs);
        child.$parent = container;
        created.push(child);
      });
    });
    const next = kept.concat(created);
    const modeling = modeler.get("modeling");
    if (!next.length) {
      update(modeler, target, bo, { extensionElements: null });
    } else if (ext) {
      modeling.updateModdleProperties(target.element, ext, { values: next });
    } else {
      container.values = next;
      container.$parent = bo;
      update(modeler, target, bo, { extensionElements: container });
    }
  }

  function applyMultiInstance(modeler, target, wanted) {
    const bo = target.bo;
    const loop = bo.get("loopCharacteristics");
    const isMi = loop && loop.$instanceOf("bpmn:MultiInstanceLoopCharacteristics");
    if (wanted === null) {
      if (isMi) update(modeler, target, bo, { loopCharacteristics: null });
      return;
    }
    if (isMi && same(loop.get("isSequential") || false, wanted.isSequential) &&
        same(body(loop.get("loopCardinality")), wanted.loopCardinality) &&
        same(body(loop.get("completionCondition")), wanted.completionCondition) &&
        same(loop.get("flowyard:collection"), wanted["flowyard:collection"]) &&
        same(loop.get("flowyard:elementVariable"), wanted["flowyard:elementVariable"])) return;
    const moddle = modeler.get("moddle");
    const attrs = { isSequential: wanted.isSequential };
    ["flowyard:collection", "flowyard:elementVariable"].forEach((k) => { if (!blank(wanted[k])) attrs[k] = wanted[k]; });
    const next = moddle.create("bpmn:MultiInstanceLoopCharacteristics", attrs);
    ["loopCardinality", "completionCondition"].forEach((k) => {
      if (!blank(wanted[k])) {
        const expression = moddle.create("bpmn:FormalExpression", { body: wanted[k] });
        expression.$parent = next;
        next.set(k, expression);
      }
    });
    next.$parent = bo;
    modeler.get("modeling").updateProperties(target.element, { loopCharacteristics: next });
  }

  function apply(modeler, patch) {
    const target = targetOf(modeler, patch.element);
    if (!target) return;
    const { element, bo } = target;
    const moddle = modeler.get("moddle");
    const registry = modeler.get("elementRegistry");
    const eventDefinition = (bo.get("eventDefinitions") || [])[0];

    if (patch.props) update(modeler, target, bo, patch.props);

    if ("condition" in patch && !same(body(bo.get("conditionExpression")), patch.condition)) {
      update(modeler, target, bo, {
        conditionExpression: patch.condition ? moddle.create("bpmn:FormalExpression", { body: patch.condition }) : null,
      });
    }
    if ("isDefault" in patch && element.source) {
      const source = element.source;
      const isDefault = source.businessObject.get("default") === bo;
      if (patch.isDefault !== isDefault) {
        modeler.get("modeling").updateProperties(source, { default: patch.isDefault ? bo : undefined });
      }
    }
    if ("default" in patch) {
      const flow = patch.default ? registry.get(patch.default) : null;
      const wanted = flow ? flow.businessObject : undefined;
      if (bo.get("default") !== wanted) modeler.get("modeling").updateProperties(element, { default: wanted });
    }
    if (patch.timer && eventDefinition) {
      const props = {};
      TIMER_KINDS.forEach((kind) => {
        const want = kind === patch.timer.type ? patch.timer.body : null;
        if (!same(body(eventDefinition.get(kind)), want)) {
          props[kind] = blank(want) ? undefined : moddle.create("bpmn:FormalExpression", { body: want });
        }
      });
      if (Object.keys(props).length) modeler.get("modeling").updateModdleProperties(element, eventDefinition, props);
    }
    if ("message" in patch) {
      const holder = eventDefinition && eventDefinition.$instanceOf("bpmn:MessageEventDefinition") ? eventDefinition : bo;
      setReference(modeler, target, holder, "messageRef", "bpmn:Message", patch.message,
        (m) => m.name === patch.message, { name: patch.message });
    }
    if ("signal" in patch && eventDefinition) {
      setReference(modeler, target, eventDefinition, "signalRef", "bpmn:Signal", patch.signal,
        (s) => s.name === patch.signal, { name: patch.signal });
    }
    if ("error" in patch && eventDefinition) {
      setReference(modeler, target, eventDefinition, "errorRef", "bpmn:Error", patch.error,
        (e) => e.errorCode === patch.error, { errorCode: patch.error, name: patch.error });
    }
    if (patch.extensions && Object.keys(patch.extensions).length) applyExtensions(modeler, target, patch.extensions);
    if ("multiInstance" in patch) applyMultiInstance(modeler, target, patch.multiInstance);
  }

  // Would apply() change the diagram? A dry run against a modeling service that stops at
  // the first call it gets: nothing is written, and every decision is taken on the same
  // state the real run starts from.
  const WOULD_CHANGE = {};
  function wouldChange(modeler, patch) {
    const modeling = new Proxy({}, { get: () => () => { throw WOULD_CHANGE; } });
    const dry = {
      get: (name) => (name === "modeling" ? modeling : modeler.get(name)),
      getDefinitions: () => modeler.getDefinitions(),
    };
    try {
      apply(dry, patch);
    } catch (error) {
      if (error === WOULD_CHANGE) return true;
      throw error;
    }
    return false;
  }

  window.FlowyardPatch = {
    register,
    wouldChange,
    apply(modeler, patch) {
      if (!wouldChange(modeler, patch)) return false;
      modeler.get("commandStack").execute("flowyard.applyPatch", { patch });
      return true;
    },
  };
})();
