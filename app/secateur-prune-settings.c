/* secateur-prune-settings.c: the pruning settings as properties, with a
 * bounded undo history of their changes. */
#include "secateur-prune-settings.h"

#include <string.h>

/* Steps kept for undo; older ones are forgotten. */
#define HISTORY_MAX 100
/* Ratio changes closer together than this are one step: a slider drag
 * sends dozens. */
#define COALESCE_US (600 * 1000)

struct _SecateurPruneSettings
{
  GObject parent_instance;
  ScPruneSettings s;
  ScPruneSettings last; /* the settings after the last recorded change */
  GArray *undo, *redo;  /* ScPruneSettings, newest last */
  gint64 last_change_us;
  gboolean last_was_ratio; /* the last step changed only the ratio */
  gboolean restoring;      /* applying an undo or redo: not a new step */
};

G_DEFINE_FINAL_TYPE (SecateurPruneSettings, secateur_prune_settings, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_RATIO,
  PROP_METRIC,
  PROP_ALGO,
  PROP_GRANULARITY,
  PROP_ENC_WEIGHT,
  PROP_DEC_WEIGHT,
  PROP_MERGE,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
secateur_prune_settings_get_property (GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec)
{
  SecateurPruneSettings *self = SECATEUR_PRUNE_SETTINGS (object);
  switch (prop_id)
    {
    case PROP_RATIO:
      g_value_set_double (value, self->s.ratio);
      break;
    case PROP_METRIC:
      g_value_set_int (value, self->s.metric);
      break;
    case PROP_ALGO:
      g_value_set_int (value, self->s.algo);
      break;
    case PROP_GRANULARITY:
      g_value_set_int (value, self->s.granularity);
      break;
    case PROP_ENC_WEIGHT:
      g_value_set_int (value, self->s.enc_weight);
      break;
    case PROP_DEC_WEIGHT:
      g_value_set_int (value, self->s.dec_weight);
      break;
    case PROP_MERGE:
      g_value_set_boolean (value, self->s.merge);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Stores `v` in *field; notifies only a real change. */
static void
set_int (SecateurPruneSettings *self, int *field, int v, guint prop)
{
  if (*field == v)
    return;
  *field = v;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
secateur_prune_settings_set_property (GObject *object, guint prop_id, const GValue *value,
                                      GParamSpec *pspec)
{
  SecateurPruneSettings *self = SECATEUR_PRUNE_SETTINGS (object);
  switch (prop_id)
    {
    case PROP_RATIO:
      if (self->s.ratio != g_value_get_double (value))
        {
          self->s.ratio = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_METRIC:
      set_int (self, (int *) &self->s.metric, g_value_get_int (value), prop_id);
      break;
    case PROP_ALGO:
      set_int (self, (int *) &self->s.algo, g_value_get_int (value), prop_id);
      break;
    case PROP_GRANULARITY:
      set_int (self, (int *) &self->s.granularity, g_value_get_int (value), prop_id);
      break;
    case PROP_ENC_WEIGHT:
      set_int (self, &self->s.enc_weight, g_value_get_int (value), prop_id);
      break;
    case PROP_DEC_WEIGHT:
      set_int (self, &self->s.dec_weight, g_value_get_int (value), prop_id);
      break;
    case PROP_MERGE:
      set_int (self, &self->s.merge, g_value_get_boolean (value) != FALSE, prop_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
settings_equal (const ScPruneSettings *a, const ScPruneSettings *b)
{
  return a->ratio == b->ratio && a->metric == b->metric && a->algo == b->algo &&
         a->granularity == b->granularity && a->enc_weight == b->enc_weight &&
         a->dec_weight == b->dec_weight;
}

static void
push_bounded (GArray *stack, const ScPruneSettings *s)
{
  if (stack->len >= HISTORY_MAX)
    g_array_remove_index (stack, 0);
  g_array_append_val (stack, *s);
}

/* The settings before this change become an undo step, unless the change
 * continues a drag of the ratio (then the step taken when it began holds
 * where it started). */
static void
record_step (SecateurPruneSettings *self)
{
  if (settings_equal (&self->s, &self->last))
    return;
  gint64 now = g_get_monotonic_time ();
  ScPruneSettings only_ratio = self->last;
  only_ratio.ratio = self->s.ratio;
  gboolean ratio_step = settings_equal (&only_ratio, &self->s);
  if (!self->restoring)
    {
      gboolean coalesce = ratio_step && self->last_was_ratio && self->undo->len > 0 &&
                          now - self->last_change_us < COALESCE_US;
      if (!coalesce)
        push_bounded (self->undo, &self->last);
      g_array_set_size (self->redo, 0);
    }
  self->last = self->s;
  self->last_change_us = self->restoring ? 0 : now;
  self->last_was_ratio = ratio_step && !self->restoring;
}

/* GObject hands over the notifications of one g_object_set (or of a
 * frozen stretch) together: `changed` follows them once, so that a page
 * recomputes its masks once per change, not once per property. */
static void
secateur_prune_settings_dispatch_properties_changed (GObject *object, guint n_pspecs,
                                                     GParamSpec **pspecs)
{
  SecateurPruneSettings *self = SECATEUR_PRUNE_SETTINGS (object);
  if (n_pspecs > 0)
    record_step (self);
  G_OBJECT_CLASS (secateur_prune_settings_parent_class)
      ->dispatch_properties_changed (object, n_pspecs, pspecs);
  if (n_pspecs > 0)
    g_signal_emit (object, signals[SIGNAL_CHANGED], 0);
}

static void
secateur_prune_settings_finalize (GObject *object)
{
  SecateurPruneSettings *self = SECATEUR_PRUNE_SETTINGS (object);
  g_array_unref (self->undo);
  g_array_unref (self->redo);
  G_OBJECT_CLASS (secateur_prune_settings_parent_class)->finalize (object);
}

static void
secateur_prune_settings_class_init (SecateurPruneSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->get_property = secateur_prune_settings_get_property;
  object_class->set_property = secateur_prune_settings_set_property;
  object_class->dispatch_properties_changed = secateur_prune_settings_dispatch_properties_changed;
  object_class->finalize = secateur_prune_settings_finalize;

  /* the engine keeps the defaults; the specs repeat them for introspection */
  ScPruneSettings d;
  sc_prune_settings_init (&d);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  /* sc_select_budget prunes a share in [0, 1) */
  properties[PROP_RATIO] = g_param_spec_double ("ratio", NULL, NULL, 0, 0.99, d.ratio, flags);
  properties[PROP_METRIC] =
      g_param_spec_int ("metric", NULL, NULL, 0, SC_EXPERT_METRIC_RANK, d.metric, flags);
  properties[PROP_ALGO] =
      g_param_spec_int ("algo", NULL, NULL, 0, SC_SELECT_THRESHOLD, d.algo, flags);
  properties[PROP_GRANULARITY] =
      g_param_spec_int ("granularity", NULL, NULL, 0, SC_GRANULARITY_PAIR, d.granularity, flags);
  properties[PROP_ENC_WEIGHT] =
      g_param_spec_int ("enc-weight", NULL, NULL, 1, G_MAXINT, d.enc_weight, flags);
  properties[PROP_DEC_WEIGHT] =
      g_param_spec_int ("dec-weight", NULL, NULL, 1, G_MAXINT, d.dec_weight, flags);
  properties[PROP_MERGE] = g_param_spec_boolean ("merge", NULL, NULL, d.merge, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
secateur_prune_settings_init (SecateurPruneSettings *self)
{
  sc_prune_settings_init (&self->s);
  self->last = self->s;
  self->undo = g_array_new (FALSE, FALSE, sizeof (ScPruneSettings));
  self->redo = g_array_new (FALSE, FALSE, sizeof (ScPruneSettings));
}

SecateurPruneSettings *
secateur_prune_settings_new (void)
{
  return g_object_new (SECATEUR_TYPE_PRUNE_SETTINGS, NULL);
}

void
secateur_prune_settings_get (SecateurPruneSettings *self, ScPruneSettings *out)
{
  g_return_if_fail (SECATEUR_IS_PRUNE_SETTINGS (self));
  *out = self->s;
}

const ScPruneSettings *
secateur_prune_settings_peek (SecateurPruneSettings *self)
{
  g_return_val_if_fail (SECATEUR_IS_PRUNE_SETTINGS (self), NULL);
  return &self->s;
}

void
secateur_prune_settings_set (SecateurPruneSettings *self, const ScPruneSettings *s)
{
  g_return_if_fail (SECATEUR_IS_PRUNE_SETTINGS (self));
  g_object_set (self, "ratio", s->ratio, "metric", (int) s->metric, "algo", (int) s->algo,
                "granularity", (int) s->granularity, "enc-weight", s->enc_weight, "dec-weight",
                s->dec_weight, "merge", s->merge, NULL);
}

/* Moves the current settings onto `to` and applies the newest of `from`. */
static gboolean
step (SecateurPruneSettings *self, GArray *from, GArray *to)
{
  if (from->len == 0)
    return FALSE;
  ScPruneSettings target = g_array_index (from, ScPruneSettings, from->len - 1);
  g_array_set_size (from, from->len - 1);
  push_bounded (to, &self->s);
  self->restoring = TRUE;
  secateur_prune_settings_set (self, &target);
  self->restoring = FALSE;
  return TRUE;
}

gboolean
secateur_prune_settings_undo (SecateurPruneSettings *self)
{
  g_return_val_if_fail (SECATEUR_IS_PRUNE_SETTINGS (self), FALSE);
  return step (self, self->undo, self->redo);
}

gboolean
secateur_prune_settings_redo (SecateurPruneSettings *self)
{
  g_return_val_if_fail (SECATEUR_IS_PRUNE_SETTINGS (self), FALSE);
  return step (self, self->redo, self->undo);
}

gboolean
secateur_prune_settings_can_undo (SecateurPruneSettings *self)
{
  return self->undo->len > 0;
}

gboolean
secateur_prune_settings_can_redo (SecateurPruneSettings *self)
{
  return self->redo->len > 0;
}

void
secateur_prune_settings_forget_history (SecateurPruneSettings *self)
{
  g_array_set_size (self->undo, 0);
  g_array_set_size (self->redo, 0);
  self->last_change_us = 0;
}
